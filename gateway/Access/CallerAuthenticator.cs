using System.Collections.Concurrent;
using System.Security.Cryptography;
using Ketenmesh.Security;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Access;

/// <summary>Who is calling: the bearer token, validated, and whether it is bound to the certificate presented.</summary>
public sealed record Caller(PartnerPrincipal Principal, bool CertificateBound);

/// <summary>
/// Authenticates a call from its <c>authorization</c> header and TLS client certificate. Validated
/// tokens are remembered until they expire, so a partner's stream of calls pays for one signature check.
/// </summary>
public sealed class CallerAuthenticator(IOptions<GatewayOptions> options, TimeProvider clock)
{
    // Its own validator, not one from DI: in the embedded mesh other components validate other audiences.
    private readonly AccessTokenValidator validator = new(
        new AccessTokenValidationOptions { Authority = options.Value.Authority, Audience = options.Value.Audience },
        AuthorityHttp.For(options.Value.Authority),
        clock);

    private const int MaxRemembered = 10_000;

    private readonly ConcurrentDictionary<string, PartnerPrincipal> _validated = new(StringComparer.Ordinal);

    /// <returns>The caller, or null with a reason for UNAUTHENTICATED.</returns>
    public async ValueTask<(Caller? Caller, string? Error)> AuthenticateAsync(HttpContext http)
    {
        string? header = http.Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "The call carries no access token. Send metadata 'authorization: Bearer <token>' with a token from the identity service (locally: ./mesh token <partner>).");
        }
        var token = header["Bearer ".Length..].Trim();
        var principal = await ValidateAsync(token, http.RequestAborted);
        if (principal.Principal is null)
        {
            return (null, $"The access token was refused: {principal.Error}");
        }
        return Bind(principal.Principal, http);
    }

    private async ValueTask<TokenValidation> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_validated.TryGetValue(token, out var known))
        {
            if (known.ExpiresAt > now)
            {
                return new TokenValidation(known, null);
            }
            _validated.TryRemove(token, out _);
        }
        var validation = await validator.ValidateAsync(token, cancellationToken);
        if (validation.Principal is { } principal)
        {
            if (_validated.Count >= MaxRemembered)
            {
                // Crude but bounded: forgetting only costs a signature check on the next call.
                _validated.Clear();
            }
            _validated[token] = principal;
        }
        return validation;
    }

    /// <summary>RFC 8705 §3: a bound token is only good together with the certificate it names.</summary>
    private static (Caller?, string?) Bind(PartnerPrincipal principal, HttpContext http)
    {
        if (principal.CertificateThumbprint is not { } expected)
        {
            return (new Caller(principal, CertificateBound: false), null);
        }
        var certificate = http.Connection.ClientCertificate;
        if (certificate is null)
        {
            return (null, "The access token is bound to a client certificate (cnf x5t#S256), but the call presented none. Call the gateway over TLS with that certificate.");
        }
        var presented = WebEncoders.Base64UrlEncode(SHA256.HashData(certificate.RawData));
        if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(presented), System.Text.Encoding.ASCII.GetBytes(expected)))
        {
            return (null, "The access token is bound to a different client certificate than the one presented.");
        }
        return (new Caller(principal, CertificateBound: true), null);
    }
}
