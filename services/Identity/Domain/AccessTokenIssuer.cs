using Ketenmesh.Security;
using Ketenmesh.Policy;
using Chain.Common.V1;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Domain;

public sealed class IssuerOptions
{
    /// <summary>RFC 9068 caps nothing, the chain does: the ceiling the gateway enforces too (<see cref="AccessTokens.MaxLifetime"/>).</summary>
    public static readonly TimeSpan MaxLifetime = AccessTokens.MaxLifetime;

    /// <summary>The <c>iss</c> of every token, also the base of the discovery document.</summary>
    public required string Issuer { get; init; }

    /// <summary>The <c>aud</c>: the gateway, the only party that accepts these tokens from partners.</summary>
    public string Audience { get; init; } = "ketenmesh-gateway";

    public TimeSpan Lifetime { get; init; } = TimeSpan.FromMinutes(5);
}

public sealed record IssuedToken(string AccessToken, TimeSpan ExpiresIn, string Scope);

/// <summary>
/// Writes JWT access tokens in the RFC 9068 profile for a partner and the purposes it may declare, in
/// process and without a request: the token endpoint is OpenIddict's (see <c>Server/TokenEndpoint</c>), this
/// is for <c>./mesh token</c> (a developer's token, including the privacy officers' until they sign in at
/// the identity service) and for tests that need tokens the endpoint would never issue (expired, for
/// another audience, from a rogue issuer). Same keys, same header and claims as the endpoint's tokens;
/// a test in Ketenmesh.Identity.Tests compares the two.
/// </summary>
public sealed class AccessTokenIssuer(SigningKeyStore keys, TimeProvider clock, IssuerOptions options)
{
    static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <param name="certificateThumbprint">SHA-256 of the client's TLS certificate (base64url), binding the token to it (RFC 8705).</param>
    public IssuedToken Issue(Partner partner, string clientId, IReadOnlySet<Purpose> purposes, string? certificateThumbprint = null)
    {
        if (options.Lifetime <= TimeSpan.Zero || options.Lifetime > IssuerOptions.MaxLifetime)
        {
            throw new InvalidOperationException($"Token lifetime {options.Lifetime} is outside (0, {IssuerOptions.MaxLifetime}].");
        }

        if (!purposes.IsSubsetOf(partner.Purposes) || purposes.Count == 0)
        {
            throw new ArgumentException($"Purposes [{string.Join(", ", purposes)}] are not a non-empty subset of {partner.Id}'s purposes.", nameof(purposes));
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var scope = string.Join(' ', purposes.Order().Select(PurposeNames.ToScope));
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = partner.Id,
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            ["client_id"] = clientId,
            ["scope"] = scope,
            [PartnerTypeNames.Claim] = PartnerTypeNames.Of(partner.Type),
        };
        if (certificateThumbprint is not null)
        {
            claims["cnf"] = new Dictionary<string, object> { ["x5t#S256"] = certificateThumbprint };
        }

        return Sign(claims, scope);
    }

    /// <summary>
    /// A privacy officer's token for the sharing-policy administration: scope <c>policy_admin</c> only,
    /// no purposes, so it opens nothing at the gateway. The subject is the officer, which four-eyes
    /// approval compares.
    /// </summary>
    public IssuedToken IssueForOfficer(string officerId)
    {
        if (!PrivacyOfficers.IsOfficer(officerId))
        {
            throw new ArgumentException($"'{officerId}' is not a registered privacy officer.", nameof(officerId));
        }
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = officerId,
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            ["client_id"] = officerId,
            ["scope"] = PrivacyOfficers.Scope,
            ["partner_type"] = "privacy_officer",
        };
        return Sign(claims, PrivacyOfficers.Scope);
    }

    IssuedToken Sign(Dictionary<string, object> claims, string scope)
    {
        if (options.Lifetime <= TimeSpan.Zero || options.Lifetime > IssuerOptions.MaxLifetime)
        {
            throw new InvalidOperationException($"Token lifetime {options.Lifetime} is outside (0, {IssuerOptions.MaxLifetime}].");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + options.Lifetime,
            Claims = claims,
            TokenType = "at+jwt",
            SigningCredentials = keys.Current,
        });
        return new IssuedToken(token, options.Lifetime, scope);
    }
}

/// <summary>The <c>partner_type</c> claim: the PartnerType enum's name without its prefix, lower case (<c>police</c>).</summary>
public static class PartnerTypeNames
{
    public const string Claim = "partner_type";

    static readonly Google.Protobuf.Reflection.EnumDescriptor PartnerTypes =
        PartnersReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.EnumDescriptor>("PartnerType");

    public static string Of(PartnerType type) =>
        PartnerTypes.FindValueByNumber((int)type).Name["PARTNER_TYPE_".Length..].ToLowerInvariant();
}
