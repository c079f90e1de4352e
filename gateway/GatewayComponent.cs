using Ketenmesh.Audit;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Gateway.Discovery;
using Ketenmesh.Gateway.Proxy;
using Ketenmesh.Gateway.Trail;
using Ketenmesh.Hosting;
using Ketenmesh.Hosting.GrpcServer;
using Ketenmesh.Security;
using Microsoft.Extensions.Options;

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
        // Every path that is not one of the gateway's own services is the relay's to decide on, not
        // grpc-dotnet's to answer UNIMPLEMENTED.
        services.Configure<Grpc.AspNetCore.Server.GrpcServiceOptions>(o => o.IgnoreUnknownServices = true);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<CallerAuthenticator>();
        services.AddSingleton<PartnerRateLimiter>();
        services.AddSingleton<CurrentPolicy>();
        services.AddHostedService<PolicyFollower>();
        services.AddGrpcClient<Chain.Policy.V1.PolicyDistribution.PolicyDistributionClient>((provider, client) =>
            client.Address = provider.GetRequiredService<IOptions<GatewayOptions>>().Value.PolicyAddress);
        // Its own key store, not the container's SigningKeyStore: embedded, identity's keys live in the same container.
        var keyFile = configuration["Gateway:TransactionKeyFile"]
            ?? Path.Combine(configuration["Mesh:DataDirectory"] ?? Path.Combine(".mesh", "data"), "gateway-transaction-keys.json");
        var issuer = configuration["Gateway:Issuer"] ?? $"http://127.0.0.1:{configuration["Service:Port"] ?? DefaultPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        services.AddSingleton(provider =>
        {
            var clock = provider.GetRequiredService<TimeProvider>();
            return new TransactionTokenIssuer(SigningKeyStore.OpenOrCreate(keyFile, clock, TransactionTokens.MaxLifetime), issuer, clock);
        });
        services.AddSingleton<UpstreamRoutes>();
        services.AddSingleton<GatewayProxy>();
        services.AddAuditLog(configuration);
        services.AddSingleton<IDecisionAudit, AuditedDecisions>();
        services.AddSingleton<VisibleServices>();
        services.AddSingleton<GatewayHealth>();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<GatewayHealth>();
        endpoints.MapGrpcService<ScopedReflection<VisibleServices>>();
        endpoints.MapGrpcService<ScopedReflectionAlpha<VisibleServices>>();
        // The gateway's own service: exact paths win over the relay's pattern.
        endpoints.MapGrpcService<AuditTrailService>();
        // The keys that verify the transaction tokens services believe (HTTP GET, like any JWKS).
        var transactionKeys = endpoints.ServiceProvider.GetRequiredService<TransactionTokenIssuer>();
        endpoints.MapGet(TransactionTokens.JwksPath, () => Results.Json(transactionKeys.Keys.JwksDocument()));
        var proxy = endpoints.ServiceProvider.GetRequiredService<GatewayProxy>();
        endpoints.MapMethods("{service}/{method}", [HttpMethods.Post], proxy.HandleAsync).WithDisplayName("gateway relay");
    }
}
