using Ketenmesh.Gateway;
using Ketenmesh.Hosting;
using Ketenmesh.Identity;
using Ketenmesh.Registry;
using Ketenmesh.Returns;
using Ketenmesh.Risk;
using Ketenmesh.SharingPolicy;
using Ketenmesh.Shelter;
using Ketenmesh.Signals;

namespace Ketenmesh.Mesh;

/// <summary>Every component of the mesh, in start order. Ports: see README (gateway 8080 … returns 8105).</summary>
public static class MeshComponents
{
    public static readonly IReadOnlyList<IMeshComponent> All =
    [
        new IdentityComponent(),
        new SharingPolicyComponent(),
        new SignalsComponent(),
        new RiskComponent(),
        new RegistryComponent(),
        new ShelterComponent(),
        new ReturnsComponent(),
        new GatewayComponent(),
    ];
}
