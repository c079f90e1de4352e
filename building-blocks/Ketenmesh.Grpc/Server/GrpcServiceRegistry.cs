using Google.Protobuf.Reflection;

namespace Ketenmesh.Grpc.Server;

/// <summary>The services this host serves; reflection and health read it.</summary>
public sealed class GrpcServiceRegistry
{
    private readonly List<ServiceDescriptor> _services = [];

    public IReadOnlyList<ServiceDescriptor> Services => _services;

    internal bool FallbackMapped { get; set; }

    public event Action<ServiceDescriptor>? ServiceAdded;

    internal void Add(ServiceDescriptor service)
    {
        if (_services.Any(s => s.FullName == service.FullName))
        {
            throw new InvalidOperationException($"gRPC service {service.FullName} is mapped twice.");
        }
        _services.Add(service);
        ServiceAdded?.Invoke(service);
    }

    public ServiceDescriptor? Find(string fullName) => _services.FirstOrDefault(s => s.FullName == fullName);
}
