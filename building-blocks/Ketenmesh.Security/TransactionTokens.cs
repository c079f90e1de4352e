using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Security;

/// <summary>
/// What the gateway vouches for on one forwarded call, after it authenticated the partner, decided on
/// purpose and grant, and recorded the decision. Modelled on the IETF OAuth Transaction Tokens draft:
/// signed by the gateway, for one service (aud) and one method, alive for seconds.
/// </summary>
/// <param name="Partner">The partner the gateway authenticated (sub).</param>
/// <param name="Purpose">The purpose (doelbinding) the call was allowed for.</param>
/// <param name="GrantId">The grant that allowed it.</param>
/// <param name="Subject">The pseudonym of the person the call is about, where the gateway found one.</param>
/// <param name="TraceId">The call's W3C trace id, so a service's log lines up with the audit record.</param>
public sealed record TransactionContext(string Partner, string Purpose, string GrantId, string? Subject, string TraceId);

/// <summary>The names both ends agree on.</summary>
public static class TransactionTokens
{
    /// <summary>The metadata that carries the token from the gateway to a service (the draft's Txn-Token header).</summary>
    public const string Header = "txn-token";

    /// <summary>The JWT <c>typ</c>; a partner's access token (at+jwt) can never pass for one.</summary>
    public const string Type = "txntoken+jwt";

    /// <summary>The longest a token may live; the gateway mints one per call, so seconds are plenty.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromSeconds(60);

    /// <summary>Where the gateway publishes the keys that verify its tokens.</summary>
    public const string JwksPath = "/.well-known/jwks.json";

    internal const string PurposeClaim = "purp";
    internal const string GrantClaim = "grant_id";
    internal const string SubjectClaim = "subject_pseudonym";
    internal const string TraceClaim = "txn";
    internal const string MethodClaim = "method";

    /// <summary>
    /// The service a gRPC method belongs to, by its package: <c>/chain.signals.v1.SignalIntake/GetSignal</c>
    /// is for <c>chain.signals.v1</c>. Routes go by package, so this is the one name both ends know.
    /// </summary>
    public static string AudienceOf(string method)
    {
        var service = method.TrimStart('/').Split('/')[0];
        var dot = service.LastIndexOf('.');
        return dot > 0 ? service[..dot] : service;
    }
}

/// <summary>Mints the gateway's transaction tokens with the newest of its keys.</summary>
public sealed class TransactionTokenIssuer(SigningKeyStore keys, string issuer, TimeProvider clock)
{
    static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>The keys it signs with; their public halves are the gateway's JWKS.</summary>
    public SigningKeyStore Keys => keys;

    /// <summary>The issuer named in every token: the gateway's address, where its JWKS is published.</summary>
    public string Issuer { get; } = issuer.TrimEnd('/');

    /// <param name="method">The gRPC path being forwarded; the token is good for that method only.</param>
    public string Mint(string method, TransactionContext context, TimeSpan? lifetime = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = context.Partner,
            [TransactionTokens.PurposeClaim] = context.Purpose,
            [TransactionTokens.GrantClaim] = context.GrantId,
            [TransactionTokens.TraceClaim] = context.TraceId,
            [TransactionTokens.MethodClaim] = method,
        };
        if (context.Subject is { Length: > 0 } subject)
        {
            claims[TransactionTokens.SubjectClaim] = subject;
        }
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = TransactionTokens.AudienceOf(method),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromSeconds(30)),
            TokenType = TransactionTokens.Type,
            Claims = claims,
            SigningCredentials = keys.Current,
        });
    }
}
