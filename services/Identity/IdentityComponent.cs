using System.Security.Cryptography;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Identity.Persistence;
using Ketenmesh.Identity.Server;
using Ketenmesh.Persistence;
using Ketenmesh.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ketenmesh.Identity;

/// <summary>
/// Identity: port 8081, the OAuth 2.0 authorization server of the partner systems, on OpenIddict
/// (docs/adr/0007). OpenIddict does the protocol; ours are the partner catalog and what a partner's token
/// says, the replay check on client assertions, and the keys in the data directory.
/// </summary>
public sealed class IdentityComponent : IMeshComponent
{
    public string Name => "identity";

    public int DefaultPort => 8081;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection("Identity").Get<IdentitySettings>() ?? new IdentitySettings();
        var endpoint = EndpointOptions.For(this, configuration);
        var options = new IssuerOptions
        {
            Issuer = settings.Issuer ?? $"http://127.0.0.1:{endpoint.Port}",
            Lifetime = settings.TokenLifetime,
        };
        if (options.Lifetime <= TimeSpan.Zero || options.Lifetime > IssuerOptions.MaxLifetime)
        {
            throw new InvalidOperationException($"Identity:TokenLifetime {options.Lifetime} is outside (0, {IssuerOptions.MaxLifetime}].");
        }

        // OpenIddict logs each request's parameters at Information; only its warnings and errors are kept.
        services.AddLogging(logging => logging.AddFilter("OpenIddict", LogLevel.Warning));
        var dataDirectory = DataDirectory(configuration);
        var keyFile = settings.KeyFile ?? Path.Combine(dataDirectory, "identity-keys.json");
        services.AddSingleton(options);
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider => SigningKeyStore.OpenOrCreate(keyFile, provider.GetRequiredService<TimeProvider>(), IssuerOptions.MaxLifetime));
        services.AddSingleton(PartnerCatalog.Seeded);
        services.AddSingleton<AccessTokenIssuer>();
        services.AddSingleton(new IdentityDirectory(dataDirectory));
        OfficerSignIn.AddCookie(services);
        services.AddSingleton(new IdentityPorts(endpoint.Port == 0 ? [] : [endpoint.Port, .. endpoint.TlsPort is { } tls ? [tls] : Array.Empty<int>()]));

        services.AddChainDbContext<IdentityDbContext>(WithDefaultDatabase(configuration, dataDirectory));
        services.AddSchemaMigrations<IdentityDbContext>(IdentitySchema.Migrations);
        services.AddHostedService(provider => new PartnerClientSeeding(
            provider.GetRequiredService<IServiceScopeFactory>(), provider.GetRequiredService<PartnerCatalog>(), settings, options, dataDirectory));

        services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<IdentityDbContext>())
            .AddServer(server =>
            {
                server.SetIssuer(new Uri(options.Issuer));
                server.SetTokenEndpointUris(TokenEndpoint.Path.TrimStart('/'));
                server.SetJsonWebKeySetEndpointUris(".well-known/jwks.json");
                server.SetIntrospectionEndpointUris("connect/introspect");
                server.SetRevocationEndpointUris("connect/revoke");
                server.AllowClientCredentialsFlow();
                server.SetAuthorizationEndpointUris(OfficerSignIn.AuthorizePath.TrimStart('/'));
                server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                server.SetAccessTokenLifetime(options.Lifetime);
                server.RegisterScopes([.. PartnerClients.AllScopes]);
                // Validators downstream read our tokens (RFC 9068 JWS): they are signed, not encrypted.
                server.DisableAccessTokenEncryption();
                // What OpenIddict encrypts for itself (none of it in the client credentials flow) uses a key of the data directory.
                server.AddEncryptionKey(new SymmetricSecurityKey(LoadOrCreateEncryptionKey(Path.Combine(dataDirectory, "identity-encryption.key"))));
                // RFC 8705: a token is bound to the TLS client certificate it was asked with (cnf x5t#S256), and a
                // client may authenticate with a self-signed certificate registered in its JWKS (an RSA key entry with x5c).
                server.UseClientCertificateBoundAccessTokens();
                server.EnableSelfSignedTlsClientAuthentication();
                server.RemoveEventHandler(OpenIddictServerHandlers.ValidateClientCertificate.Descriptor);
                server.RemoveEventHandler(OpenIddictServerHandlers.ValidateClientAssertion.Descriptor);
                server.AddEventHandler(CertificateBinding.Descriptor);
                server.AddEventHandler(ClientAssertionReplay.Descriptor);
                server.AddEventHandler(PartnerScopes.Descriptor);
                server.AddEventHandler(IdentityPortOnly.Descriptor);
                server.AddEventHandler(ClientAuthenticationAdvice.Descriptor);
                foreach (var handler in SigningKeyHandlers.All.Concat(ProtocolAdjustments.All))
                {
                    server.AddEventHandler(handler);
                }

                var aspNetCore = server.UseAspNetCore().EnableTokenEndpointPassthrough().EnableAuthorizationEndpointPassthrough();
                if (new Uri(options.Issuer).IsLoopback || endpoint.TlsPort is null)
                {
                    // The cleartext port is loopback in development and behind the platform's TLS in a container.
                    aspNetCore.DisableTransportSecurityRequirement();
                }
            });
        // After OpenIddict's own configuration (its ASP.NET Core host adds client_secret_basic by itself):
        // partner systems authenticate with private_key_jwt or a registered self-signed TLS certificate;
        // client secrets only in the local profile.
        // OpenIddict insists on a signing key at startup; the handlers above sign with the store's current one.
        services.AddOptions<OpenIddictServerOptions>().Configure<SigningKeyStore>((server, keys) =>
        {
            server.ClientAuthenticationMethods.Clear();
            server.ClientAuthenticationMethods.Add(ClientAuthenticationMethods.PrivateKeyJwt);
            server.ClientAuthenticationMethods.Add(ClientAuthenticationMethods.SelfSignedTlsClientAuth);
            if (settings.AllowClientSecrets)
            {
                server.ClientAuthenticationMethods.Add(ClientAuthenticationMethods.ClientSecretBasic);
                server.ClientAuthenticationMethods.Add(ClientAuthenticationMethods.ClientSecretPost);
            }

            server.SigningCredentials.Add(keys.Current);
        });
    }

    /// <summary>Where keys live: <c>Mesh:DataDirectory</c>, else <c>.mesh/data</c> (what <c>./mesh up</c> uses).</summary>
    public static string DataDirectory(IConfiguration configuration) =>
        configuration["Mesh:DataDirectory"] ?? Path.Combine(".mesh", "data");

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(TokenEndpoint.Path, TokenEndpoint.HandleAsync);
        endpoints.MapMethods(OfficerSignIn.AuthorizePath, ["GET", "POST"], OfficerSignIn.AuthorizeAsync);
        endpoints.MapGet(OfficerSignIn.LoginPath, OfficerSignIn.LoginPage);
        endpoints.MapPost(OfficerSignIn.LoginPath, OfficerSignIn.LoginAsync);
    }

    /// <summary>Embedded and alone, the identity's SQLite file is in the data directory unless configured otherwise.</summary>
    static IConfiguration WithDefaultDatabase(IConfiguration configuration, string dataDirectory) =>
        !string.IsNullOrWhiteSpace(configuration["Database:ConnectionString"])
            ? configuration
            : new ConfigurationBuilder().AddConfiguration(configuration).AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Database:ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "identity.db")}",
            }).Build();

    static byte[] LoadOrCreateEncryptionKey(string path)
    {
        if (File.Exists(path))
        {
            return Convert.FromBase64String(File.ReadAllText(path));
        }

        var key = RandomNumberGenerator.GetBytes(32);
        OwnerOnlyFile.WriteText(path, Convert.ToBase64String(key));
        return key;
    }
}
