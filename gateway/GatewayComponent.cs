using Ketenmesh.Audit;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Gateway.Discovery;
using Ketenmesh.Gateway.Forwarding;
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

    /// <summary>Every partner organisation's systems connect here (municipalities alone are over 300).</summary>
    public int DefaultMaxConnections => 4_000;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection("Gateway"))
            .Validate(o => o.MaxTokenLifetime > TimeSpan.Zero && o.MaxTokenLifetime <= Security.AccessTokens.MaxLifetime,
                $"Gateway:MaxTokenLifetime must be positive and at most the chain's ceiling, {Security.AccessTokens.MaxLifetime}.")
            .Validate(o => o.StreamEndGrace >= TimeSpan.Zero && o.StreamEndGrace <= GatewayOptions.MaxStreamEndGrace,
                $"Gateway:StreamEndGrace must be from 0 to {GatewayOptions.MaxStreamEndGrace}: a stopping gateway holds an ended stream's connection that long.")
            .ValidateOnStart();
        // Every path that is not one of the gateway's own services is the relay's to decide on, not
        // grpc-dotnet's to answer UNIMPLEMENTED.
        services.Configure<Grpc.AspNetCore.Server.GrpcServiceOptions>(o => o.IgnoreUnknownServices = true);
        services.AddSingleton(TimeProvider.System);
        PartnerTokens.Add(services);
        services.AddSingleton<CallerAuthenticator>();
        services.AddSingleton<GatewaySteps>();
        services.AddRateLimiter(_ => { });
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
        // Routes and clusters: reverse-proxy.json (a route per service package, HTTP/2, active health
        // checks), beneath the component's own configuration, where a deployment sets the destinations.
        services.AddReverseProxy()
            .LoadFromConfig(ReverseProxyConfiguration(configuration).GetSection("ReverseProxy"))
            .AddTransforms<GatewayTransforms>();
        // The hop to the services over TLS with client certificates (the real profile): the mesh authority in the data directory.
        var meshTls = configuration.GetValue("Gateway:MutualTls", false) ? EndpointOptions.DataDirectoryOf(configuration) : null;
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory>(provider =>
            new ServiceConnections(provider.GetRequiredService<ILogger<Yarp.ReverseProxy.Forwarder.ForwarderHttpClientFactory>>(), meshTls));
        // The forwarder warns on every call whose body was read before forwarding ("Unable to disable max
        // request body size"); the gateway reads each single-message request on purpose (preconditions,
        // subject) after lifting that limit itself (CallBoundary). Its failures are logged by CallBoundary.
        services.AddLogging(logging => logging.AddFilter("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.Error));
        services.AddSingleton(provider => new ServiceDestinations(provider.GetRequiredService<Yarp.ReverseProxy.IProxyStateLookup>(), meshTls));
        services.AddAuditLog(configuration);
        services.AddSingleton<IDecisionAudit, AuditedDecisions>();
        // Registered after the audit log, so it stops first and writes its open windows while the log still takes them.
        services.AddSingleton<FoldedDenials>();
        services.AddHostedService(provider => provider.GetRequiredService<FoldedDenials>());
        services.AddSingleton<OwnServiceGuard>();
        services.AddSingleton<ChainVerificationGate>();
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
        endpoints.MapReverseProxy(GatewayPipeline.Configure);
    }

    /// <summary>The configuration key of a service's destination address (<c>ReverseProxy:Clusters:signals:Destinations:signals:Address</c>).</summary>
    public static string DestinationKey(string service) => $"ReverseProxy:Clusters:{service}:Destinations:{service}:Address";

    private static IConfiguration ReverseProxyConfiguration(IConfiguration configuration)
    {
        using var routes = typeof(GatewayComponent).Assembly.GetManifestResourceStream("Ketenmesh.Gateway.reverse-proxy.json")
            ?? throw new InvalidOperationException("reverse-proxy.json is not embedded in the gateway.");
        var copy = new MemoryStream();
        routes.CopyTo(copy);
        copy.Position = 0;
        return new ConfigurationBuilder().AddJsonStream(copy).AddConfiguration(configuration).Build();
    }
}
