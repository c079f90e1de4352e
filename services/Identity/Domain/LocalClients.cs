using System.Security.Cryptography;
using Ketenmesh.Persistence;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Domain;

/// <summary>
/// The local profile's partner systems: one key pair per seeded partner, generated at first run into
/// the data directory (never committed) and registered as OpenIddict application <c>{partner}-local</c>
/// (see <see cref="PartnerClientSeeding"/>), so a
/// developer can get a real token for any partner (<c>./mesh token police</c>).
/// </summary>
public static class LocalClients
{
    public static string ClientId(Partner partner) => $"{partner.Id}-local";

    /// <summary>
    /// The partner's local client secret, made at first use next to its key (owner-only file). Only for
    /// trying the token endpoint by hand in the local profile; partner systems use private_key_jwt.
    /// </summary>
    public static string LoadOrCreateSecret(string dataDirectory, Partner partner)
    {
        var path = Path.Combine(dataDirectory, "local-clients", $"{partner.Id}.secret");
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }
        var secret = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        OwnerOnlyFile.WriteText(path, secret);
        return secret;
    }

    /// <summary>The gateway's local client at the identity (introspection and revocation), in the local profile.</summary>
    public const string GatewayClientId = "ketenmesh-gateway";

    /// <summary>The partner's local private key; created (readable by the owner only) when missing.</summary>
    public static ECDsa LoadOrCreateKey(string dataDirectory, Partner partner) => LoadOrCreateKey(dataDirectory, partner.Id);

    /// <summary>A local client's private key by name (a partner id, or <c>gateway</c>); created (owner-only) when missing.</summary>
    public static ECDsa LoadOrCreateKey(string dataDirectory, string name)
    {
        var path = Path.Combine(dataDirectory, "local-clients", $"{name}.pkcs8");
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(File.ReadAllText(path)), out _);
            return key;
        }

        OwnerOnlyFile.WriteText(path, Convert.ToBase64String(key.ExportPkcs8PrivateKey()));
        return key;
    }

    /// <summary>The header <c>typ</c> of a client assertion (draft-ietf-oauth-rfc7523bis); OpenIddict 7 accepts no other.</summary>
    public const string AssertionType = "client-authentication+jwt";

    /// <summary>
    /// A one-minute client assertion for the authorization server <paramref name="issuer"/> (its <c>aud</c>,
    /// as draft-ietf-oauth-rfc7523bis asks and OpenIddict 7 requires), signed with the partner's local key
    /// (RFC 7523 §3): how a local client authenticates.
    /// </summary>
    public static string CreateAssertion(string dataDirectory, Partner partner, string issuer) =>
        CreateAssertion(LoadOrCreateKey(dataDirectory, partner), ClientId(partner), issuer);

    /// <summary>The gateway's assertion, for introspection and revocation at the identity in the local profile.</summary>
    public static string CreateGatewayAssertion(string dataDirectory, string issuer) =>
        CreateAssertion(LoadOrCreateKey(dataDirectory, "gateway"), GatewayClientId, issuer);

    static string CreateAssertion(ECDsa signingKey, string clientId, string issuer)
    {
        using var key = signingKey;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            TokenType = AssertionType,
            Issuer = clientId,
            Audience = issuer,
            Expires = DateTime.UtcNow.AddMinutes(1),
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = clientId,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
            // The key is disposed after signing; IdentityModel would otherwise cache a signature provider under the
            // key's thumbprint and hand the disposed key to the next assertion made with the same key in this process.
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256)
            {
                CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
            },
        });
    }
}
