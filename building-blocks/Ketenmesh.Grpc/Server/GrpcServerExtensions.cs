using Grpc.Health.V1;
using Ketenmesh.Grpc.Health;
using Ketenmesh.Grpc.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ketenmesh.Grpc.Server;

public static class GrpcServerExtensions
{
    /// <summary>Registers the gRPC server: options, the service registry, health and reflection.</summary>
    public static IServiceCollection AddGrpcServer(this IServiceCollection services, Action<GrpcServerOptions>? configure = null)
    {
        var options = services.AddOptions<GrpcServerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.AddRouting();
        services.AddSingleton(new ServiceLifetimes(services));
        services.AddSingleton<GrpcServiceRegistry>();
        services.AddSingleton<HealthStatusRegistry>();
        services.AddSingleton<HealthService>();
        services.AddSingleton<ReflectionService>();
        services.AddSingleton<ReflectionAlphaService>();
        return services;
    }

    /// <summary>
    /// Serves <c>grpc.health.v1.Health</c> and server reflection (v1 and v1alpha). Every service mapped
    /// reports SERVING; on shutdown all report NOT_SERVING so probes stop sending traffic while we drain.
    /// </summary>
    public static IEndpointRouteBuilder MapGrpcHealthAndReflection(this IEndpointRouteBuilder endpoints)
    {
        var provider = endpoints.ServiceProvider;
        var registry = provider.GetRequiredService<GrpcServiceRegistry>();
        var health = provider.GetRequiredService<HealthStatusRegistry>();
        if (!health.FollowsRegistry)
        {
            // Once per process, however many component ports map health.
            health.FollowsRegistry = true;
            foreach (var existing in registry.Services)
            {
                health.SetStatus(existing.FullName, HealthCheckResponse.Types.ServingStatus.Serving);
            }
            registry.ServiceAdded += service => health.SetStatus(service.FullName, HealthCheckResponse.Types.ServingStatus.Serving);
            provider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(health.SetAllNotServing);
        }

        endpoints.MapGrpcService<HealthService>(HealthReflection.Descriptor.Services[0]);
        endpoints.MapGrpcService<ReflectionService>(global::Grpc.Reflection.V1.ReflectionReflection.Descriptor.Services[0]);
        endpoints.MapGrpcService<ReflectionAlphaService>(global::Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor.Services[0]);
        return endpoints;
    }
}
