using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Grpc.Server;

public static class GrpcEndpointExtensions
{
    /// <summary>
    /// Serves <typeparamref name="TService"/> as the gRPC service <paramref name="service"/>:
    /// <c>POST /{package}.{Service}/{Method}</c> for every method in the descriptor.
    /// </summary>
    public static IEndpointConventionBuilder MapGrpcService<TService>(this IEndpointRouteBuilder endpoints, ServiceDescriptor service)
        where TService : class
    {
        var provider = endpoints.ServiceProvider;
        var options = provider.GetRequiredService<IOptions<GrpcServerOptions>>().Value;
        var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Ketenmesh.Grpc.Server");
        var registry = provider.GetRequiredService<GrpcServiceRegistry>();
        // A singleton service is resolved once here rather than through a per-call DI scope.
        var singleton = provider.GetRequiredService<ServiceLifetimes>().IsSingleton(typeof(TService)) ? provider.GetRequiredService<TService>() : null;
        var handlers = ServiceBinder.Bind(typeof(TService), service, options, logger, singleton);
        registry.Add(service, GrpcPortScope.PortOf(endpoints));
        MapUnimplementedFallback(endpoints, registry);
        var builders = handlers
            .Select(h => endpoints.MapMethods(h.Path, [HttpMethods.Post], h.HandleAsync).WithDisplayName($"gRPC {h.Path}"))
            .ToList();
        return new CompositeConventionBuilder(builders);
    }

    private static void MapUnimplementedFallback(IEndpointRouteBuilder endpoints, GrpcServiceRegistry registry)
    {
        if (registry.FallbackMapped)
        {
            return;
        }
        registry.FallbackMapped = true;
        var handler = new UnimplementedHandler(registry);
        endpoints.MapMethods("{service}/{**method}", [HttpMethods.Post], handler.HandleAsync)
            .WithDisplayName("gRPC unimplemented")
            .WithOrder(int.MaxValue);
    }

    private sealed class CompositeConventionBuilder(IReadOnlyList<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }
    }
}
