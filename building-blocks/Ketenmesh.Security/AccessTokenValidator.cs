using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Security;

public sealed class AccessTokenValidationOptions
{
    /// <summary>The issuer's base address; its metadata is read from <c>/.well-known/openid-configuration</c>.</summary>
    public required Uri Authority { get; init; }

    /// <summary>The <c>aud</c> a token must name to be accepted here.</summary>
    public required string Audience { get; init; }

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long discovered metadata and keys are used before they are fetched again.</summary>
    public TimeSpan MetadataLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Least time between two refetches caused by tokens with a key id the JWKS lacks.</summary>
    public TimeSpan UnknownKeyRefreshInterval { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>What the chain allows of a partner's access token, wherever it is issued or accepted.</summary>
public static class AccessTokens
{
    /// <summary>
    /// The longest a partner's access token may live (exp − iat): a stolen token is useful for ten
    /// minutes at most. The identity service issues none longer (<c>Identity:TokenLifetime</c> may only be
    /// shorter), and the gateway accepts none longer (<c>Gateway:MaxTokenLifetime</c> may only be shorter).
    /// </summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);

    /// <summary>Why a token that lives longer than <paramref name="maxLifetime"/> is refused, or null when it does not; a token without iat is refused too.</summary>
    public static string? TooLong(JsonWebToken jwt, TimeSpan maxLifetime)
    {
        if (!jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Iat, out _))
        {
            return "The access token lacks iat, so its lifetime cannot be checked (RFC 9068 §2.2).";
        }
        var lifetime = jwt.ValidTo - jwt.IssuedAt;
        return lifetime > maxLifetime
            ? $"The access token is valid for {lifetime.TotalMinutes:N0} minutes, longer than the {maxLifetime.TotalMinutes:N0} the chain allows; request a new one from the identity service."
            : null;
    }
}

/// <summary>The outcome: a principal, or why the token was refused, worded for the partner's developer.</summary>
public sealed record TokenValidation(PartnerPrincipal? Principal, string? Error);

/// <summary>
/// Validates JWT access tokens in the RFC 9068 profile against an authority found by discovery, so
/// our identity service, Keycloak or Duende IdentityServer can issue them by configuration alone. Keys
/// come from the discovered JWKS; an unknown key id makes it fetch the JWKS again (key rotation).
/// </summary>
public sealed class AccessTokenValidator
{
    static readonly JsonWebTokenHandler Handler = new();

    readonly AccessTokenValidationOptions _options;
    readonly SigningKeySource<OpenIdConnectConfiguration> _issuer;

    public AccessTokenValidator(AccessTokenValidationOptions options, HttpClient http, TimeProvider? clock = null)
    {
        _options = options;
        var metadataAddress = new Uri(options.Authority, ".well-known/openid-configuration").ToString();
        // Loopback development runs without TLS; anywhere else an http authority is a configuration error.
        var retriever = new HttpDocumentRetriever(http) { RequireHttps = !options.Authority.IsLoopback };
        _issuer = new SigningKeySource<OpenIdConnectConfiguration>(
            cancellationToken => OpenIdConnectConfigurationRetriever.GetAsync(metadataAddress, retriever, cancellationToken),
            options.MetadataLifetime, options.UnknownKeyRefreshInterval, clock ?? TimeProvider.System);
    }

    public async Task<TokenValidation> ValidateAsync(string token, CancellationToken cancellationToken = default)
    {
        try
        {
            return Outcome(await _issuer.ValidateAsync(configuration => Handler.ValidateTokenAsync(token, Parameters(configuration)), cancellationToken));
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or HttpRequestException)
        {
            return new TokenValidation(null, $"The token issuer's metadata could not be read ({exception.Message}).");
        }
    }

    static TokenValidation Outcome(TokenValidationResult result) =>
        result.IsValid ? PrincipalOf((JsonWebToken)result.SecurityToken) : new TokenValidation(null, Reason(result.Exception));

    /// <summary>
    /// The partner a validated RFC 9068 token names, or why it names none. Shared with the gateway, whose
    /// JwtBearer handler checks signature, issuer, audience, typ and lifetime and then asks this.
    /// </summary>
    public static TokenValidation PrincipalOf(JsonWebToken jwt)
    {
        if (!jwt.TryGetPayloadValue<string>("client_id", out var clientId) || string.IsNullOrEmpty(jwt.Subject) || string.IsNullOrEmpty(jwt.Id))
        {
            return new TokenValidation(null, "The access token lacks sub, client_id or jti (RFC 9068 §2.2).");
        }

        jwt.TryGetPayloadValue<string>("scope", out var scope);
        jwt.TryGetPayloadValue<string>("partner_type", out var partnerType);
        return new TokenValidation(new PartnerPrincipal(
            jwt.Subject,
            partnerType,
            clientId,
            (scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal),
            jwt.Id,
            new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero),
            Thumbprint(jwt)), null);
    }

    /// <summary>RFC 9068 §4: an access token says so in its header, so an ID token or any other JWT is refused.</summary>
    public static readonly string[] AccessTokenTypes = ["at+jwt", "application/at+jwt"];

    TokenValidationParameters Parameters(OpenIdConnectConfiguration configuration) => new()
    {
        ValidIssuer = configuration.Issuer,
        ValidAudience = _options.Audience,
        IssuerSigningKeys = configuration.SigningKeys,
        ValidTypes = AccessTokenTypes,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ClockSkew = _options.ClockSkew,
    };

    static string? Thumbprint(JsonWebToken jwt) =>
        jwt.TryGetPayloadValue<JsonElement>("cnf", out var cnf) && cnf.ValueKind == JsonValueKind.Object && cnf.TryGetProperty("x5t#S256", out var value)
            ? value.GetString()
            : null;

    /// <summary>Why a token was refused, worded for the partner's developer.</summary>
    public static string Reason(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "The access token has expired; request a new one.",
        SecurityTokenInvalidAudienceException => $"The access token is not meant for this service (wrong aud).",
        SecurityTokenInvalidIssuerException => "The access token comes from an issuer this service does not trust.",
        SecurityTokenInvalidTypeException => "Not an access token: typ must be at+jwt (RFC 9068).",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The access token's signature does not verify against the issuer's keys.",
        SecurityTokenMalformedException => "The access token is not a well-formed JWT.",
        InvalidOperationException or IOException or HttpRequestException => $"The token issuer's metadata could not be read ({exception.Message}).",
        _ => $"The access token was refused ({exception?.GetType().Name ?? "unknown reason"}).",
    };
}
