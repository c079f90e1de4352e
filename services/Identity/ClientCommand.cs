using Ketenmesh.Identity.Domain;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;

namespace Ketenmesh.Identity;

/// <summary>
/// <c>Ketenmesh.Identity client …</c>: an operator registers a partner's system where no local clients are seeded
/// (compose, Kubernetes), with the identity's own settings (its environment, or <c>--Section:Key=value</c>):
/// <list type="bullet">
/// <item><c>client register &lt;partner&gt; &lt;client-id&gt; &lt;jwks-file|-&gt;</c>: the system authenticates with
/// private_key_jwt against the public keys of that JWKS, for the partner's purposes as scopes; run again to change its keys.</item>
/// <item><c>client remove &lt;client-id&gt;</c>: its next token request is refused.</item>
/// <item><c>client list</c>: every partner system, with its partner.</item>
/// </list>
/// The database is the running identity's, whose OpenIddict caches an application for one request only, so a
/// change applies to the next token request (ClientCommandTests).
/// </summary>
public static class ClientCommand
{
    const string Usage = """
        usage: client register <partner> <client-id> <jwks-file|->   register or update a partner's system (its public keys)
               client remove <client-id>                           refuse the system's next token request
               client list                                         every partner system and its partner
        """;

    /// <summary>The identity's own clients: no partner system may take their names.</summary>
    static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        LocalClients.GatewayClientId, OfficerConsole.ClientId, OfficerConsole.ComponentClientId,
    };

    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        var (positional, services) = IdentityCommandLine.Open(args);
        await using var provider = services;
        await using var scope = provider.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var catalog = provider.GetRequiredService<PartnerCatalog>();

        switch (positional)
        {
            case ["register", var partnerId, var clientId, var source]:
                if (catalog.Find(partnerId) is not { } partner)
                {
                    await error.WriteLineAsync($"Unknown partner '{partnerId}'. Partners: {string.Join(", ", catalog.All.Select(p => p.Id).Order())}.");
                    return 2;
                }

                if (Reserved.Contains(clientId) || string.IsNullOrWhiteSpace(clientId))
                {
                    await error.WriteLineAsync($"'{clientId}' is not a name a partner's system may have.");
                    return 2;
                }

                if (await ReadKeysAsync(source == "-" ? input : null, source, error) is not { } keys)
                {
                    return 2;
                }

                if (await applications.FindByClientIdAsync(clientId) is not null)
                {
                    // Changing a system's keys, yes; turning one partner's system into another's, no.
                    var owner = await PartnerClients.PartnerOfAsync(applications, clientId, catalog);
                    if (owner?.Id != partner.Id)
                    {
                        await error.WriteLineAsync($"'{clientId}' is registered already, {(owner is null ? "and is no partner's system" : $"for {owner.Id}")}: remove it first.");
                        return 2;
                    }
                }

                await PartnerClients.RegisterAsync(applications, PartnerClients.Describe(clientId, partner, keys));
                await output.WriteLineAsync($"{clientId}: a system of {partner.Id}, scopes {string.Join(" ", partner.Purposes.Order().Select(Ketenmesh.Policy.PurposeNames.ToScope))}, {keys.Keys.Count} key(s).");
                return 0;

            case ["remove", var clientId]:
                if (await PartnerClients.PartnerOfAsync(applications, clientId, catalog) is null
                    || await applications.FindByClientIdAsync(clientId) is not { } removed)
                {
                    await error.WriteLineAsync($"There is no partner system '{clientId}'.");
                    return 2;
                }

                await applications.DeleteAsync(removed);
                await output.WriteLineAsync($"{clientId}: removed; its next token request is refused.");
                return 0;

            case ["list"]:
                await foreach (var application in applications.ListAsync())
                {
                    var clientId = await applications.GetClientIdAsync(application);
                    if (clientId is not null && await PartnerClients.PartnerOfAsync(applications, clientId, catalog) is { } of)
                    {
                        await output.WriteLineAsync($"{clientId}\t{of.Id}");
                    }
                }

                return 0;

            default:
                await error.WriteLineAsync(Usage);
                return 2;
        }
    }

    /// <summary>A JWKS of public keys only: a private key handed to the identity would be a secret in its database.</summary>
    static async Task<JsonWebKeySet?> ReadKeysAsync(TextReader? input, string path, TextWriter error)
    {
        string json;
        try
        {
            json = input is not null ? await input.ReadToEndAsync() : await File.ReadAllTextAsync(path);
        }
        catch (IOException e)
        {
            await error.WriteLineAsync($"The JWKS could not be read: {e.Message}");
            return null;
        }

        JsonWebKeySet keys;
        try
        {
            keys = new JsonWebKeySet(json);
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync($"That is no JWKS: {e.Message}");
            return null;
        }

        if (keys.Keys.Count == 0)
        {
            await error.WriteLineAsync("The JWKS holds no key.");
            return null;
        }

        if (keys.Keys.Any(k => k.HasPrivateKey || !string.IsNullOrEmpty(k.K)))
        {
            await error.WriteLineAsync("The JWKS holds a private or symmetric key: register the public keys only; the private key stays with the partner.");
            return null;
        }

        return keys;
    }
}
