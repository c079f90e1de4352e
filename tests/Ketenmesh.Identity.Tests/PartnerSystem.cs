using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Tests;

/// <summary>A partner's system as a client: its own key pair, and the client assertions it signs (RFC 7523).</summary>
sealed class PartnerSystem(string clientId)
{
    readonly ECDsaSecurityKey _key = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = clientId + "-key" };

    public string ClientId => clientId;

    public SecurityKey PublicKey => new ECDsaSecurityKey(ECDsa.Create(_key.ECDsa.ExportParameters(false))) { KeyId = _key.KeyId };

    public string Assertion(string audience, TimeSpan? lifetime = null, string? jti = null, string? subject = null, DateTime? now = null)
    {
        var issuedAt = now ?? DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt,
            Expires = issuedAt + (lifetime ?? TimeSpan.FromMinutes(1)),
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = subject ?? clientId,
                [JwtRegisteredClaimNames.Jti] = jti ?? Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.EcdsaSha256),
        });
    }
}
