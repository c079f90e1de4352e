using Ketenmesh.Security;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Identity.Http;

namespace Ketenmesh.Identity;

/// <summary>
/// Identity: port 8081, the OAuth 2.0 authorization server of the partner systems (docs/adr/0003).
/// </summary>
public sealed class IdentityComponent : IMeshComponent
{
    public string Name => "identity";

    public int DefaultPort => 8081;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection("Identity").Get<IdentitySettings>() ?? new IdentitySettings();
        var port = configuration["Service:Port"] ?? DefaultPort.ToString();
        var options = new IssuerOptions
        {
            Issuer = settings.Issuer ?? $"http://127.0.0.1:{port}",
            Lifetime = settings.TokenLifetime,
        };
        var keyFile = settings.KeyFile ?? Path.Combine(DataDirectory(configuration), "identity-keys.json");
        services.AddSingleton(options);
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(provider => SigningKeyStore.OpenOrCreate(keyFile, provider.GetRequiredService<TimeProvider>(), IssuerOptions.MaxLifetime));
        services.AddSingleton(PartnerCatalog.Seeded);
        services.AddSingleton(provider =>
        {
            var registry = new ClientRegistry();
            if (settings.LocalClients)
            {
                LocalClients.Register(registry, provider.GetRequiredService<PartnerCatalog>(), DataDirectory(configuration), settings.AllowClientSecrets);
            }

            return registry;
        });
        services.AddSingleton(provider => new ClientAssertionValidator(options.Issuer.TrimEnd('/') + TokenEndpoint.Path, provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AccessTokenIssuer>();
    }

    /// <summary>Where keys live: <c>Mesh:DataDirectory</c>, else <c>.mesh/data</c> (what <c>./mesh up</c> uses).</summary>
    public static string DataDirectory(IConfiguration configuration) =>
        configuration["Mesh:DataDirectory"] ?? Path.Combine(".mesh", "data");

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(DiscoveryEndpoints.ConfigurationPath, DiscoveryEndpoints.Configuration);
        endpoints.MapGet(DiscoveryEndpoints.JwksPath, DiscoveryEndpoints.Jwks);
        endpoints.MapPost(TokenEndpoint.Path, TokenEndpoint.HandleAsync);
    }
}
