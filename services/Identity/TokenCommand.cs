using Ketenmesh.Identity.Server;
using Ketenmesh.Identity.Domain;

namespace Ketenmesh.Identity;

/// <summary>
/// <c>Ketenmesh.Identity token &lt;partner&gt; [scope]</c> (behind <c>./mesh token</c>): a developer's token for a
/// seeded partner's local client (<c>{partner}-local</c>) or a privacy officer, signed in process with the
/// identity keys of the data directory, with the scope checked against the partner catalog as the token
/// endpoint checks it. The identity service on the same data directory publishes those keys, so the
/// gateway and the services accept the token. Partner systems get theirs from the token endpoint.
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
        var issuer = provider.GetRequiredService<AccessTokenIssuer>();

        if (PrivacyOfficers.IsOfficer(positional[0]))
        {
            if (OfficerPasswords.WasRemoved(provider.GetRequiredService<IdentityDirectory>().Path, positional[0]))
            {
                await error.WriteLineAsync($"'{positional[0]}' was removed (Ketenmesh.Identity account remove): no token.");
                return 2;
            }

            await output.WriteLineAsync(issuer.IssueForOfficer(positional[0]).AccessToken);
            return 0;
        }

        var catalog = provider.GetRequiredService<PartnerCatalog>();
        if (catalog.Find(positional[0]) is not { } partner)
        {
            await error.WriteLineAsync($"Unknown partner '{positional[0]}'. Seeded partners: {string.Join(", ", catalog.All.Select(p => p.Id).Order())}; privacy officers: {string.Join(", ", PrivacyOfficers.Seeded)}.");
            return 2;
        }

        if (ScopeRequest.Resolve(partner, positional.ElementAtOrDefault(1), out var scopeError) is not { } purposes)
        {
            await error.WriteLineAsync($"invalid_scope: {scopeError}");
            return 2;
        }

        await output.WriteLineAsync(issuer.Issue(partner, LocalClients.ClientId(partner), purposes).AccessToken);
        return 0;
    }
}
