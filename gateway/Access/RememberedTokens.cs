using System.Collections.Concurrent;
using Ketenmesh.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Gateway.Access;

/// <summary>
/// JwtBearer's token handler, remembering a token it validated until the token expires: a partner
/// sends the same token with every call for minutes, so a stream of calls pays for one ES256 check.
/// Only the signature, issuer, audience, typ and lifetime checks are remembered, with the ceiling on a
/// token's lifetime (exp − iat, checked here, once per token: a token past it fails validation and is
/// not remembered, so nothing stays here longer than <paramref name="maxLifetime"/>); the claims and the
/// certificate binding (OnTokenValidated) are still checked on every call.
/// </summary>
internal sealed class RememberedTokens(TimeProvider clock, TimeSpan maxLifetime) : JsonWebTokenHandler
{
    private const int MaxRemembered = 10_000;

    private readonly ConcurrentDictionary<string, (TokenValidationResult Result, DateTime Expires)> _valid = new(StringComparer.Ordinal);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_valid.TryGetValue(token, out var known))
        {
            if (known.Expires > now)
            {
                return known.Result;
            }
            _valid.TryRemove(token, out _);
        }
        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is JsonWebToken jwt)
        {
            // Defence in depth: the identity service issues none longer, but a token signed with its key (a
            // leaked key, a misconfigured issuer) could live for years.
            if (AccessTokens.TooLong(jwt, maxLifetime) is { } tooLong)
            {
                return new TokenValidationResult { IsValid = false, Exception = new TokenLivesTooLongException(tooLong) };
            }
            if (_valid.Count >= MaxRemembered)
            {
                // Crude but bounded: forgetting only costs a signature check on the next call.
                _valid.Clear();
            }
            _valid[token] = (result, jwt.ValidTo);
        }
        return result;
    }
}

/// <summary>A validly signed token that lives longer than the gateway accepts; its message is the reason the partner hears.</summary>
internal sealed class TokenLivesTooLongException(string message) : SecurityTokenInvalidLifetimeException(message);
