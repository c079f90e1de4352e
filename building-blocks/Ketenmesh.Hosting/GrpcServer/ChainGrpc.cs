using Grpc.AspNetCore.HealthChecks;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// grpc-dotnet as every component uses it: limits from the <c>Grpc</c> configuration section, our
/// cross-cutting steps as interceptors (outermost first: streams end at shutdown, refusals to statuses,
/// the caller partner, request validation), health from the readiness checks and reflection.
/// </summary>
public static class ChainGrpc
{
    public const string ConfigurationSection = "Grpc";

    public static IGrpcServerBuilder AddChainGrpc(this IServiceCollection services, IConfiguration configuration)
    {
        var grpc = services.AddGrpc(options =>
        {
            configuration.GetSection(ConfigurationSection).Bind(options);
            options.Interceptors.Add<StreamsEndAtShutdown>();
            options.Interceptors.Add<RefusalInterceptor>();
            // No identity, no access: an anonymous caller learns nothing, not even what its request lacks.
            options.Interceptors.Add<CallerPartnerInterceptor>();
            options.Interceptors.Add<RequestValidationInterceptor>();
        });
        // Stateless, so one of each: grpc-dotnet takes an interceptor from DI when it is registered there,
        // and would otherwise make one per call (the validation interceptor indexes every validator).
        services.AddSingleton<StreamsEndAtShutdown>();
        services.AddSingleton<RefusalInterceptor>();
        services.AddSingleton<CallerPartnerInterceptor>();
        services.AddSingleton(provider =>
        {
            var gateway = CallerPartner.GatewayAddress(configuration);
            return new Ketenmesh.Security.TransactionTokenValidator(gateway, Ketenmesh.Security.AuthorityHttp.For(gateway), provider.GetService<TimeProvider>() ?? TimeProvider.System);
        });
        services.AddSingleton<RequestValidationInterceptor>();
        services.AddSingleton<ServiceCatalog>();
        services.AddGrpcReflection();
        services.AddSingleton<PortScope>();
        services.AddGrpcHealthChecks();
        services.AddSingleton<IPostConfigureOptions<GrpcHealthChecksOptions>, HealthServiceMapping>();
        services.AddHealthChecks()
            .AddCheck<DrainingCheck>("draining", tags: [Persistence.Readiness.Tag])
            .AddCheck(ProcessHealth.AliveCheck, () => HealthCheckResult.Healthy());
        return grpc;
    }

    /// <summary>
    /// Serves grpc.health.v1 and server reflection (v1 and v1alpha). In a port scope (one of several
    /// components in one process) reflection lists only that port's services.
    /// </summary>
    public static IEndpointRouteBuilder MapGrpcHealthAndReflection(this IEndpointRouteBuilder endpoints, bool portScoped)
    {
        endpoints.MapGrpcHealthChecksService();
        if (portScoped)
        {
            endpoints.MapGrpcService<ScopedReflection<PortScope>>();
            endpoints.MapGrpcService<ScopedReflectionAlpha<PortScope>>();
        }
        else
        {
            endpoints.MapGrpcReflectionService();
        }
        return endpoints;
    }

    /// <summary>
    /// Lets one process serve several components, each on its own port, as if each were its own server:
    /// services mapped in the returned scope answer only on <paramref name="port"/> (and its TLS twin).
    /// </summary>
    public static IEndpointRouteBuilder MapGrpcPort(this IEndpointRouteBuilder endpoints, int port, int? tlsPort = null) =>
        endpoints.MapGroup(string.Empty).RequireHost(tlsPort is { } tls ? [$"*:{port}", $"*:{tls}"] : [$"*:{port}"]);

    /// <summary>Counts every gRPC call by method and status (see <see cref="CallMetrics"/>).</summary>
    public static IApplicationBuilder UseGrpcCallMetrics(this IApplicationBuilder app) =>
        app.Use(CallMetrics.CountAsync);
}
