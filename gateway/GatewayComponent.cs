using Ketenmesh.Audit;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Gateway.Discovery;
using Ketenmesh.Gateway.Proxy;
using Ketenmesh.Gateway.Trail;
using Ketenmesh.Grpc.Server;
using Ketenmesh.Hosting;

namespace Ketenmesh.Gateway;

/// <summary>The gateway: port 8080, the one entry for partners (docs/adr/0003).</summary>
public sealed class GatewayComponent : IMeshComponent
{
    public string Name => "gateway";

    public int DefaultPort => 8080;

    /// <summary>Its health and reflection answer per caller, so the host must not map the plain ones.</summary>
    public bool MapsOwnHealthAndReflection => true;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection("Gateway"));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<CallerAuthenticator>();
        services.AddSingleton<PartnerRateLimiter>();
        services.AddSingleton<CurrentPolicy>();
        services.AddHostedService<PolicyFollower>();
        services.AddSingleton<UpstreamRoutes>();
        services.AddSingleton<GatewayProxy>();
        services.AddAuditLog(configuration);
        services.AddSingleton<IDecisionAudit, AuditedDecisions>();
        services.AddSingleton<VisibleServices>();
        services.AddSingleton<GatewayHealth>();
        services.AddSingleton<GatewayReflection>();
        services.AddSingleton<GatewayReflectionAlpha>();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<GatewayHealth>(global::Grpc.Health.V1.HealthReflection.Descriptor.Services[0]);
        endpoints.MapGrpcService<GatewayReflection>(global::Grpc.Reflection.V1.ReflectionReflection.Descriptor.Services[0]);
        endpoints.MapGrpcService<GatewayReflectionAlpha>(global::Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor.Services[0]);
        // The gateway's own service: exact paths win over the relay's pattern.
        endpoints.MapGrpcService<AuditTrailService>(global::Chain.Audit.V1.AuditReflection.Descriptor.Services[0]);
        var proxy = endpoints.ServiceProvider.GetRequiredService<GatewayProxy>();
        endpoints.MapMethods("{service}/{method}", [HttpMethods.Post], proxy.HandleAsync).WithDisplayName("gateway relay");
    }
}
