using Microsoft.Extensions.Hosting;
using OpenIddict.Abstractions;

namespace Ketenmesh.Identity.Domain;

/// <summary>
/// At startup (after the schema migrations): registers every scope; the privacy officers' console
/// (<c>Identity:ConsoleRedirectUri</c>) with the officers' and researchers' passwords (made at first run into the
/// data directory), in every profile; and in the local profile (<c>Identity:LocalClients</c>) one application
/// per seeded partner, <c>{partner}-local</c>, with the key made at first use in the data directory (and a secret
/// when <c>Identity:AllowClientSecrets</c>), the command line's officers' client and the gateway's client
/// <c>ketenmesh-gateway</c> for introspection and revocation.
/// Idempotent: a restart, or a second replica, brings the same rows up to date.
/// </summary>
internal sealed class PartnerClientSeeding(IServiceScopeFactory scopes, PartnerCatalog catalog, IdentitySettings settings, IssuerOptions issuer, string dataDirectory) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var scopeManager = scope.ServiceProvider.GetRequiredService<IOpenIddictScopeManager>();
        foreach (var name in PartnerClients.AllScopes)
        {
            if (await scopeManager.FindByNameAsync(name, cancellationToken) is null)
            {
                var descriptor = new OpenIddictScopeDescriptor { Name = name };
                descriptor.Resources.Add(issuer.Audience);
                await scopeManager.CreateAsync(descriptor, cancellationToken);
            }
        }

        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        if (!string.IsNullOrWhiteSpace(settings.ConsoleRedirectUri))
        {
            OfficerPasswords.SeedOnce(dataDirectory);

            // The console component (services/Console): officers and researchers sign in, the code returned to the console.
            await PartnerClients.RegisterAsync(applications, PartnerClients.DescribeOfficerConsole(
                OfficerConsole.ComponentClientId, OfficerConsole.RedirectUrisFor(new Uri(settings.ConsoleRedirectUri)), "Privacy officers' console (services/Console)", withStatistics: true), cancellationToken);
        }

        if (!settings.LocalClients)
        {
            return;
        }

        foreach (var partner in catalog.All)
        {
            using var key = LocalClients.LoadOrCreateKey(dataDirectory, partner);
            var clientId = LocalClients.ClientId(partner);
            var secret = settings.AllowClientSecrets ? LocalClients.LoadOrCreateSecret(dataDirectory, partner) : null;
            await PartnerClients.RegisterAsync(applications, PartnerClients.Describe(clientId, partner, PartnerClients.KeySet(key, clientId), secret), cancellationToken);
        }

        await PartnerClients.RegisterAsync(applications, PartnerClients.DescribeOfficerConsole(OfficerConsole.ClientId, [OfficerConsole.RedirectUri]), cancellationToken);
        using var gatewayKey = LocalClients.LoadOrCreateKey(dataDirectory, "gateway");
        await PartnerClients.RegisterAsync(applications, PartnerClients.DescribeGateway(LocalClients.GatewayClientId, PartnerClients.KeySet(gatewayKey, LocalClients.GatewayClientId)), cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The local profile's officers' console client: sign in at the identity, code returned to a loopback address.</summary>
public static class OfficerConsole
{
    public const string ClientId = "policy-officers";

    /// <summary>The console component's client (services/Console): an OpenID Connect relying party, so it also asks for <c>openid</c>.</summary>
    public const string ComponentClientId = "ketenmesh-console";

    public static Uri RedirectUri { get; } = new("http://127.0.0.1:8765/callback");

    /// <summary>
    /// The console's redirect URIs: the configured one, and on loopback its other spelling too (127.0.0.1 and
    /// localhost), since a newcomer opens either and the browser sends the host it was given.
    /// </summary>
    public static IReadOnlyList<Uri> RedirectUrisFor(Uri configured)
    {
        string? twin = configured.Host switch
        {
            "127.0.0.1" => "localhost",
            "localhost" => "127.0.0.1",
            _ => null,
        };
        return twin is null ? [configured] : [configured, new UriBuilder(configured) { Host = twin }.Uri];
    }
}
