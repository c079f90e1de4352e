using Ketenmesh.Identity.Domain;
using Ketenmesh.Identity.Http;

namespace Ketenmesh.Identity;

/// <summary>
/// <c>Ketenmesh.Identity token &lt;partner&gt; [scope]</c> (behind <c>./mesh token</c>): runs the token
/// endpoint's flow in process for the partner's local client (assertion signed with its local key,
/// authenticated, scope resolved, token issued with the identity keys in the data directory) and
/// prints the access token. The identity service on the same data directory accepts it.
/// </summary>
public static class TokenCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        if (positional.Count is < 1 or > 2)
        {
            await error.WriteLineAsync("usage: token <partner> [scope]   e.g. token police criminal_investigation");
            return 2;
        }

        var configuration = new ConfigurationBuilder().AddCommandLine(args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToArray()).Build();
        var services = new ServiceCollection();
        new IdentityComponent().AddServices(services, configuration);
        await using var provider = services.BuildServiceProvider();

        if (PrivacyOfficers.IsOfficer(positional[0]))
        {
            await output.WriteLineAsync(provider.GetRequiredService<AccessTokenIssuer>().IssueForOfficer(positional[0]).AccessToken);
            return 0;
        }

        var catalog = provider.GetRequiredService<PartnerCatalog>();
        if (catalog.Find(positional[0]) is not { } partner)
        {
            await error.WriteLineAsync($"Unknown partner '{positional[0]}'. Seeded partners: {string.Join(", ", catalog.All.Select(p => p.Id).Order())}; privacy officers: {string.Join(", ", PrivacyOfficers.Seeded)}.");
            return 2;
        }

        var options = provider.GetRequiredService<IssuerOptions>();
        var clients = new ClientRegistry();
        var dataDirectory = IdentityComponent.DataDirectory(configuration);
        LocalClients.Register(clients, catalog, dataDirectory);
        var assertion = LocalClients.CreateAssertion(dataDirectory, partner, options.Issuer.TrimEnd('/') + TokenEndpoint.Path);

        var authentication = await provider.GetRequiredService<ClientAssertionValidator>().ValidateAsync(assertion, null, id => clients.Find(id)?.PublicKey);
        if (authentication.ClientId is null)
        {
            await error.WriteLineAsync($"invalid_client: {authentication.Error}");
            return 1;
        }

        if (ScopeRequest.Resolve(partner, positional.ElementAtOrDefault(1), out var scopeError) is not { } purposes)
        {
            await error.WriteLineAsync($"invalid_scope: {scopeError}");
            return 2;
        }

        var token = provider.GetRequiredService<AccessTokenIssuer>().Issue(partner, authentication.ClientId, purposes);
        await output.WriteLineAsync(token.AccessToken);
        return 0;
    }
}
