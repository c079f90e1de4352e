using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// The gRPC services this process maps, read off ASP.NET Core's endpoints, with the ports they answer on.
/// One process may host several components on their own ports (embedded profile); reflection and health
/// on a port speak only of that port's services, as if each component were its own server.
/// </summary>
public sealed class ServiceCatalog
{
    private IReadOnlyList<(ServiceDescriptor Service, IReadOnlyList<string> Hosts)>? _services;

    /// <summary>
    /// Read once every component has mapped its endpoints, before the host starts: health (whose options
    /// name every service) and reflection are built after that, when the endpoints are not yet attached
    /// to routing.
    /// </summary>
    public IReadOnlyList<(ServiceDescriptor Service, IReadOnlyList<string> Hosts)> Services =>
        _services ?? throw new InvalidOperationException("The gRPC service catalog is read before the host has mapped its endpoints (MeshHost loads it).");

    public void Load(IEndpointRouteBuilder mapped) => _services = Read(mapped.DataSources.SelectMany(d => d.Endpoints));

    /// <summary>Every service that answers on <paramref name="localPort"/>.</summary>
    public IReadOnlyList<ServiceDescriptor> On(int localPort) =>
        Services.Where(s => s.Hosts.Count == 0 || s.Hosts.Any(h => h == "*" || h.EndsWith($":{localPort}", StringComparison.Ordinal)))
            .Select(s => s.Service)
            .DistinctBy(s => s.FullName)
            .ToList();

    private static List<(ServiceDescriptor, IReadOnlyList<string>)> Read(IEnumerable<Endpoint> endpoints) =>
        endpoints
            .Select(e => (Grpc: e.Metadata.GetMetadata<GrpcMethodMetadata>(), Hosts: e.Metadata.GetMetadata<IHostMetadata>()?.Hosts ?? []))
            .Where(e => e.Grpc is not null)
            .GroupBy(e => (e.Grpc!.ServiceType, string.Join(",", e.Hosts)))
            .Select(g => (DescriptorOf(g.Key.ServiceType), (IReadOnlyList<string>)g.First().Hosts.ToList()))
            .Where(s => s.Item1 is not null)
            .Select(s => (s.Item1!, s.Item2))
            .ToList();

    /// <summary>
    /// A generated service base (<c>X.XBase</c>) is nested in <c>X</c>, whose static <c>Descriptor</c> is the
    /// contract's descriptor; the implementation derives from the base.
    /// </summary>
    private static ServiceDescriptor? DescriptorOf(Type implementation)
    {
        for (var type = implementation; type is not null; type = type.BaseType)
        {
            if (type.DeclaringType?.GetProperty("Descriptor")?.GetValue(null) is ServiceDescriptor descriptor)
            {
                return descriptor;
            }
        }
        return null;
    }
}
