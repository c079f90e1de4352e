using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Security;

/// <summary>A transaction token's verdict: what the gateway vouched for, or why the call is refused.</summary>
/// <param name="Unavailable">The gateway's keys could not be read: nothing can be verified, so nothing is believed.</param>
public sealed record TransactionVerdict(TransactionContext? Context, string? Error, bool Unavailable = false);

/// <summary>
/// Checks the gateway's transaction token on a call into a service: signed with a key of the gateway's
/// JWKS, issued by the gateway, for this service (aud) and this method, and not older than a minute.
/// Keys are fetched from the gateway and fetched again when a token names a key id not seen yet.
/// </summary>
public sealed class TransactionTokenValidator
{
    static readonly JsonWebTokenHandler Handler = new();

    readonly string _issuer;
    readonly SigningKeySource<IReadOnlyList<SecurityKey>> _keys;

    /// <param name="gateway">The gateway's address: the issuer its tokens name, and where its JWKS is.</param>
    public TransactionTokenValidator(Uri gateway, HttpClient http, TimeProvider clock)
    {
        _issuer = gateway.ToString().TrimEnd('/');
        var jwks = new Uri(gateway, TransactionTokens.JwksPath);
        // Fetched again at most every 5 s for an unknown key id: the gateway rotated, or restarted on a new volume.
        _keys = new SigningKeySource<IReadOnlyList<SecurityKey>>(async cancellationToken =>
        {
            using var response = await http.GetAsync(jwks, cancellationToken);
            response.EnsureSuccessStatusCode();
            return [.. new JsonWebKeySet(await response.Content.ReadAsStringAsync(cancellationToken)).GetSigningKeys()];
        }, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5), clock);
    }

    /// <param name="method">The gRPC path of the call being made (<c>/package.Service/Method</c>).</param>
    public async Task<TransactionVerdict> ValidateAsync(string? token, string method, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return new(null, $"The call carries no {TransactionTokens.Header}; partners call the mesh through the gateway.");
        }

        try
        {
            return Outcome(await _keys.ValidateAsync(keys => Handler.ValidateTokenAsync(token, Parameters(keys, method)), cancellationToken), method);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or ArgumentException or InvalidOperationException
                                   && !cancellationToken.IsCancellationRequested)
        {
            return new(null, $"The gateway's keys could not be read ({e.GetType().Name}).", Unavailable: true);
        }
    }

    TokenValidationParameters Parameters(IReadOnlyList<SecurityKey> keys, string method) => new()
    {
        ValidIssuer = _issuer,
        ValidAudience = TransactionTokens.AudienceOf(method),
        IssuerSigningKeys = keys,
        ValidTypes = [TransactionTokens.Type],
        ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ClockSkew = TimeSpan.FromSeconds(5),
    };

    static TransactionVerdict Outcome(TokenValidationResult result, string method)
    {
        if (!result.IsValid)
        {
            return new(null, Reason(result.Exception));
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        if (jwt.ValidTo - jwt.IssuedAt > TransactionTokens.MaxLifetime + TimeSpan.FromSeconds(1))
        {
            return new(null, "The transaction token lives longer than the gateway ever issues them.");
        }
        if (!jwt.TryGetPayloadValue<string>(TransactionTokens.MethodClaim, out var tokenMethod) || tokenMethod != method)
        {
            return new(null, "The transaction token is for another method.");
        }
        if (string.IsNullOrEmpty(jwt.Subject) || jwt.Subject.Length > 64
            || !jwt.TryGetPayloadValue<string>(TransactionTokens.PurposeClaim, out var purpose)
            || !jwt.TryGetPayloadValue<string>(TransactionTokens.GrantClaim, out var grant))
        {
            return new(null, "The transaction token lacks the partner, purpose or grant.");
        }

        jwt.TryGetPayloadValue<string>(TransactionTokens.SubjectClaim, out var subject);
        jwt.TryGetPayloadValue<string>(TransactionTokens.TraceClaim, out var trace);
        return new(new TransactionContext(jwt.Subject, purpose, grant, subject, trace ?? ""), null);
    }

    static string Reason(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "The transaction token has expired.",
        SecurityTokenInvalidAudienceException => "The transaction token is for another service.",
        SecurityTokenInvalidIssuerException => "The transaction token was not issued by this mesh's gateway.",
        SecurityTokenInvalidTypeException => $"Not a transaction token: typ must be {TransactionTokens.Type}.",
        SecurityTokenInvalidAlgorithmException => "The transaction token's algorithm is not the gateway's.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The transaction token's signature does not verify against the gateway's keys.",
        SecurityTokenMalformedException => "The transaction token is not a well-formed JWT.",
        _ => $"The transaction token was refused ({exception?.GetType().Name ?? "unknown reason"}).",
    };
}
