using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Domain;

public sealed record ClientAuthentication(string? ClientId, string? Error);

/// <summary>
/// Authenticates a client by <c>private_key_jwt</c> (RFC 7523 §2.2 and §3): a JWT it signed with its
/// own key, issued and about itself (iss = sub = client_id), for this token endpoint (aud), short-lived
/// (exp), and used once (jti). A replayed assertion is refused until it would have expired anyway.
/// </summary>
public sealed class ClientAssertionValidator(string tokenEndpoint, TimeProvider clock)
{
    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>Longest lifetime an assertion may claim; a long-lived assertion is a reusable password.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(5);

    static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);
    static readonly JsonWebTokenHandler Handler = new();

    readonly ConcurrentDictionary<(string Client, string Jti), DateTimeOffset> _used = new();
    DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    /// <param name="clientKey">The registered public key of a client id, or null for an unknown client.</param>
    /// <returns>The authenticated client id, or the reason to answer <c>invalid_client</c>.</returns>
    public async Task<ClientAuthentication> ValidateAsync(string assertion, string? claimedClientId, Func<string, SecurityKey?> clientKey)
    {
        JsonWebToken unverified;
        try
        {
            unverified = new JsonWebToken(assertion);
        }
        catch (ArgumentException)
        {
            return Refused("client_assertion is not a JWT.");
        }

        var clientId = unverified.Issuer;
        if (string.IsNullOrEmpty(clientId) || (claimedClientId is not null && claimedClientId != clientId))
        {
            return Refused("client_assertion's iss must be the client_id.");
        }

        if (clientKey(clientId) is not { } key)
        {
            return Refused($"Unknown client '{clientId}'.");
        }

        var result = await Handler.ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = clientId,
            ValidAudience = tokenEndpoint,
            IssuerSigningKey = key,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = Skew,
        });
        if (!result.IsValid)
        {
            return Refused($"client_assertion was refused: {result.Exception?.GetType().Name.Replace("SecurityToken", "", StringComparison.Ordinal).Replace("Exception", "", StringComparison.Ordinal)}.");
        }

        var token = (JsonWebToken)result.SecurityToken;
        if (token.Subject != clientId)
        {
            return Refused("client_assertion's sub must be the client_id.");
        }

        var now = clock.GetUtcNow();
        var expires = new DateTimeOffset(token.ValidTo, TimeSpan.Zero);
        if (expires - now > MaxLifetime + Skew)
        {
            return Refused($"client_assertion may be valid for {MaxLifetime.TotalMinutes:N0} minutes at most.");
        }

        if (string.IsNullOrEmpty(token.Id))
        {
            return Refused("client_assertion needs a jti, so it can be used only once.");
        }

        Forget(now);
        if (!_used.TryAdd((clientId, token.Id), expires + Skew))
        {
            return Refused("client_assertion was already used (jti seen before).");
        }

        return new ClientAuthentication(clientId, Error: null);
    }

    static ClientAuthentication Refused(string reason) => new(ClientId: null, reason);

    void Forget(DateTimeOffset now)
    {
        // A sweep walks every remembered jti; once a minute is enough to keep the set small.
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + TimeSpan.FromMinutes(1);
        foreach (var (key, until) in _used)
        {
            if (until < now)
            {
                _used.TryRemove(key, out _);
            }
        }
    }
}
