using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Grpc.Server;

/// <summary>How service classes were registered, read once when they are mapped.</summary>
internal sealed class ServiceLifetimes(IServiceCollection services)
{
    public bool IsSingleton(Type serviceType) =>
        services.LastOrDefault(d => d.ServiceType == serviceType && !d.IsKeyedService)?.Lifetime == ServiceLifetime.Singleton;
}
