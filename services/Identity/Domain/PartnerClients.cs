using System.Security.Cryptography;
using System.Text.Json;
using Ketenmesh.Policy;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ketenmesh.Identity.Domain;

/// <summary>
/// The partner catalog as OpenIddict applications: a partner system is a confidential client whose
/// permissions are the token endpoint, the client credentials grant and one scope per purpose the
/// partner may act for; it authenticates with its registered public keys (private_key_jwt), and the
/// application remembers which partner it acts for (property <c>partner</c>).
/// </summary>
public static class PartnerClients
{
    public const string PartnerProperty = "partner";

    /// <summary>Every scope the server knows: the purposes, and the officers' <c>policy_admin</c>.</summary>
    public static IReadOnlyList<string> AllScopes { get; } =
        [.. Enum.GetValues<Chain.Common.V1.Purpose>().Where(p => p != Chain.Common.V1.Purpose.Unspecified).Select(PurposeNames.ToScope), PrivacyOfficers.Scope];

    public static OpenIddictApplicationDescriptor Describe(string clientId, Partner partner, JsonWebKeySet keys, string? secret = null)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientType = ClientTypes.Confidential,
            DisplayName = partner.Name,
            JsonWebKeySet = keys,
            ClientSecret = secret,
        };
        descriptor.Permissions.Add(Permissions.Endpoints.Token);
        descriptor.Permissions.Add(Permissions.Endpoints.Revocation);
        descriptor.Permissions.Add(Permissions.GrantTypes.ClientCredentials);
        foreach (var purpose in partner.Purposes.Order())
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + PurposeNames.ToScope(purpose));
        }

        descriptor.Properties[PartnerProperty] = JsonSerializer.SerializeToElement(partner.Id);
        return descriptor;
    }

    /// <summary>
    /// The gateway as a client of the identity: a resource server that may introspect the tokens meant for it
    /// (client_id = the tokens' audience, so OpenIddict lets it) and revoke them (RFC 7662, RFC 7009). It
    /// gets no grant: it never asks for tokens.
    /// </summary>
    public static OpenIddictApplicationDescriptor DescribeGateway(string clientId, JsonWebKeySet keys)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientType = ClientTypes.Confidential,
            DisplayName = "Ketenmesh gateway",
            JsonWebKeySet = keys,
        };
        descriptor.Permissions.Add(Permissions.Endpoints.Introspection);
        descriptor.Permissions.Add(Permissions.Endpoints.Revocation);
        return descriptor;
    }

    /// <summary>
    /// The privacy officers' console: a public client (it keeps no secret) that signs an officer in with the
    /// authorization code flow and PKCE, at its redirect URIs, for the scope <c>policy_admin</c> only; the
    /// console component (<paramref name="withStatistics"/>) also signs the Rapporteur's researchers in for <c>statistics</c>.
    /// </summary>
    public static OpenIddictApplicationDescriptor DescribeOfficerConsole(string clientId, IEnumerable<Uri> redirectUris, string displayName = "Privacy officers' console", bool withStatistics = false)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientType = ClientTypes.Public,
            DisplayName = displayName,
        };
        descriptor.RedirectUris.UnionWith(redirectUris);
        descriptor.Permissions.Add(Permissions.Endpoints.Authorization);
        descriptor.Permissions.Add(Permissions.Endpoints.Token);
        descriptor.Permissions.Add(Permissions.GrantTypes.AuthorizationCode);
        descriptor.Permissions.Add(Permissions.ResponseTypes.Code);
        descriptor.Permissions.Add(Permissions.Prefixes.Scope + PrivacyOfficers.Scope);
        if (withStatistics)
        {
            // The console also shows the Rapporteur's researchers the statistics dashboard, with their own token.
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + RapporteurResearchers.Scope);
        }
        descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
        return descriptor;
    }

    /// <summary>A JWKS of one public key (never the private half), the way a partner registers its key.</summary>
    public static JsonWebKeySet KeySet(ECDsa key, string keyId)
    {
        var publicOnly = ECDsa.Create(key.ExportParameters(includePrivateParameters: false));
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(publicOnly) { KeyId = keyId });
        jwk.Use = JsonWebKeyUseNames.Sig;
        var set = new JsonWebKeySet();
        set.Keys.Add(jwk);
        return set;
    }

    /// <summary>Creates the application, or brings an existing one up to the descriptor (idempotent; a secret that still matches is not rehashed).</summary>
    public static async Task RegisterAsync(IOpenIddictApplicationManager applications, OpenIddictApplicationDescriptor descriptor, CancellationToken cancellationToken = default)
    {
        var existing = await applications.FindByClientIdAsync(descriptor.ClientId!, cancellationToken);
        if (existing is null)
        {
            await applications.CreateAsync(descriptor, cancellationToken);
            return;
        }

        if (descriptor.ClientSecret is { } secret)
        {
            var stored = new OpenIddictApplicationDescriptor();
            await applications.PopulateAsync(stored, existing, cancellationToken);
            if (!string.IsNullOrEmpty(stored.ClientSecret) && await applications.ValidateClientSecretAsync(existing, secret, cancellationToken))
            {
                descriptor.ClientSecret = stored.ClientSecret;
            }
        }

        await applications.UpdateAsync(existing, descriptor, cancellationToken);
    }

    /// <summary>The partner a client acts for, or null for a client that is not a partner's.</summary>
    public static async Task<Partner?> PartnerOfAsync(IOpenIddictApplicationManager applications, string clientId, PartnerCatalog catalog, CancellationToken cancellationToken = default)
    {
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application)
        {
            return null;
        }

        var properties = await applications.GetPropertiesAsync(application, cancellationToken);
        return properties.TryGetValue(PartnerProperty, out var partner) && partner.ValueKind == JsonValueKind.String
            ? catalog.Find(partner.GetString()!)
            : null;
    }
}
