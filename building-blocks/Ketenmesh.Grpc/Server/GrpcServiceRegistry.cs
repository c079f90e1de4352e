using Google.Protobuf.Reflection;

namespace Ketenmesh.Grpc.Server;

/// <summary>
/// The services this host serves, and on which port when one process hosts several components
/// (the embedded mesh); reflection reads it so each port shows only its own services.
/// </summary>
public sealed class GrpcServiceRegistry
{
    private readonly List<(ServiceDescriptor Service, int? Port)> _services = [];

    public IReadOnlyList<ServiceDescriptor> Services => _services.Select(s => s.Service).Distinct().ToList();

    internal bool FallbackMapped { get; set; }

    public event Action<ServiceDescriptor>? ServiceAdded;

    /// <summary>The services a caller on <paramref name="localPort"/> can reach.</summary>
    public IReadOnlyList<ServiceDescriptor> ServicesOn(int? localPort) =>
        _services.Where(s => s.Port is null || localPort is null || s.Port == localPort).Select(s => s.Service).Distinct().ToList();

    internal void Add(ServiceDescriptor service, int? port)
    {
        if (_services.Any(s => s.Service.FullName == service.FullName && s.Port == port))
        {
            throw new InvalidOperationException($"gRPC service {service.FullName} is mapped twice{(port is null ? "" : $" on port {port}")}.");
        }
        _services.Add((service, port));
        ServiceAdded?.Invoke(service);
    }

    public ServiceDescriptor? Find(string fullName) => _services.FirstOrDefault(s => s.Service.FullName == fullName).Service;
}
