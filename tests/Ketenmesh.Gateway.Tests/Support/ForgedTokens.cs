using System.Text;
using Chain.Common.V1;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>
/// Access tokens the identity service would never issue, made from its own key material (the
/// <see cref="SigningKeyStore"/> in the mesh's data directory) or from none: what an attacker at the gateway tries.
/// </summary>
static class ForgedTokens
{
    /// <summary>An issuer with the identity service's own key, issuer name and audience, varied in one respect.</summary>
    public static AccessTokenIssuer Issuer(GatewayMesh mesh, TimeProvider? clock = null, string? audience = null, string? issuer = null, SigningKeyStore? keys = null)
    {
        var options = mesh.Services.GetRequiredService<IssuerOptions>();
        return new AccessTokenIssuer(keys ?? mesh.Services.GetRequiredService<SigningKeyStore>(), clock ?? TimeProvider.System,
            new IssuerOptions { Issuer = issuer ?? options.Issuer, Audience = audience ?? options.Audience, Lifetime = options.Lifetime });
    }

    /// <summary>A token for a seeded partner, as <paramref name="issuer"/> writes it.</summary>
    public static string For(this AccessTokenIssuer issuer, string partnerId, params Purpose[] purposes)
    {
        var partner = PartnerCatalog.Seeded.Find(partnerId) ?? throw new ArgumentException($"No seeded partner '{partnerId}'.");
        return issuer.Issue(partner, partnerId, purposes.Length == 0 ? partner.Purposes : purposes.ToHashSet()).AccessToken;
    }

    /// <summary>The claims of a genuine token under <c>alg: none</c> and no signature.</summary>
    public static string Unsigned(string genuine)
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"at+jwt"}""");
        return $"{header}.{new JsonWebToken(genuine).EncodedPayload}.";
    }

    /// <summary>
    /// The claims of a genuine token signed HS256 with <paramref name="secret"/> (the issuer's published key
    /// bytes), under the issuer's own kid: the classic confusion, hoping the verifier follows alg.
    /// </summary>
    public static string HmacSigned(string genuine, byte[] secret)
    {
        var kid = new JsonWebToken(genuine).Kid;
        return new JsonWebTokenHandler().CreateToken(PayloadOf(genuine),
            new SigningCredentials(new SymmetricSecurityKey(secret) { KeyId = kid }, SecurityAlgorithms.HmacSha256),
            new Dictionary<string, object> { ["typ"] = "at+jwt" });
    }

    /// <summary>
    /// The claims of a genuine token, signed with the identity's own current key, but valid from now for
    /// <paramref name="lifetime"/>: a token the identity would never issue, yet whose signature verifies.
    /// </summary>
    public static string LivingFor(GatewayMesh mesh, string genuine, TimeSpan lifetime)
    {
        var payload = System.Text.Json.Nodes.JsonNode.Parse(PayloadOf(genuine))!.AsObject();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        payload["iat"] = now;
        payload["nbf"] = now;
        payload["exp"] = now + (long)lifetime.TotalSeconds;
        return new JsonWebTokenHandler().CreateToken(payload.ToJsonString(), mesh.Services.GetRequiredService<SigningKeyStore>().Current,
            new Dictionary<string, object> { ["typ"] = "at+jwt" });
    }

    public static string PayloadOf(string token) => Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(new JsonWebToken(token).EncodedPayload));

    /// <summary>A clock some way off the real one: tokens issued by it are already expired, or not yet valid.</summary>
    public sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }
}
