using System.Security.Cryptography;
using Ketenmesh.Identity.Domain;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;

namespace Ketenmesh.Identity.Tests;

/// <summary>A partner's system as a client: its own key pair, and the client assertions it signs (RFC 7523).</summary>
sealed class PartnerSystem(string clientId)
{
    readonly ECDsaSecurityKey _key = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = clientId + "-key" };

    public string ClientId => clientId;

    /// <summary>The private key as PKCS#8 PEM, for a client outside .NET.</summary>
    public string PrivateKeyPem => _key.ECDsa.ExportPkcs8PrivateKeyPem();

    /// <summary>What the partner registers: its public key only.</summary>
    public JsonWebKeySet KeySet => PartnerClients.KeySet(_key.ECDsa, _key.KeyId);

    /// <summary>Registers this system at a running identity service as a client of <paramref name="partnerId"/>.</summary>
    public async Task RegisterAsync(IServiceProvider services, string partnerId, string? secret = null)
    {
        await using var scope = services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        await PartnerClients.RegisterAsync(applications, PartnerClients.Describe(clientId, PartnerCatalog.Seeded.Find(partnerId)!, KeySet, secret));
    }

    public string Assertion(string audience, TimeSpan? lifetime = null, string? jti = null, string? subject = null, DateTime? now = null, string type = LocalClients.AssertionType)
    {
        var issuedAt = now ?? DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = type,
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
