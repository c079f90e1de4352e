using Ketenmesh.Gateway;
using Ketenmesh.Hosting;
using Ketenmesh.Identity;
using Ketenmesh.OfficerConsole;
using Ketenmesh.Registry;
using Ketenmesh.Returns;
using Ketenmesh.Risk;
using Ketenmesh.SharingPolicy;
using Ketenmesh.Shelter;
using Ketenmesh.Signals;

namespace Ketenmesh.Mesh;

/// <summary>Every component of the mesh, in start order. Ports: see README (gateway 8080 … returns 8105, console 8090).</summary>
public static class MeshComponents
{
    /// <summary>The gRPC components, which the embedded mesh hosts in one pipeline (MeshHost.BuildEmbedded).</summary>
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

    /// <summary>The privacy officers' console: a browser's HTTP/1.1 component, hosted beside the others in an application of its own (ConsoleHost).</summary>
    public static readonly IMeshComponent Console = new ConsoleComponent();

    /// <summary>Everything that is deployed: what deploy/components.ini, compose and k8s describe.</summary>
    public static readonly IReadOnlyList<IMeshComponent> Deployed = [.. All, Console];
}
