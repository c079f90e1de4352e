using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Security;

/// <summary>
/// An issuer's published keys (a discovery document with its JWKS, or a JWKS alone), kept for a while and
/// fetched again when stale or when a token names a key id the copy lacks (the issuer rotated). One fetch
/// at a time; made-up key ids refetch at most once per interval, so they cannot flood the issuer.
/// </summary>
internal sealed class SigningKeySource<T>(Func<CancellationToken, Task<T>> fetch, TimeSpan lifetime, TimeSpan unknownKeyRefreshInterval, TimeProvider clock)
    where T : class
{
    readonly SemaphoreSlim _fetching = new(1, 1);
    (T Document, DateTimeOffset FetchedAt)? _current;
    DateTimeOffset _lastUnknownKeyRefresh = DateTimeOffset.MinValue;

    /// <summary>Validates against the current copy, and once more against a fresh one if the token's key id was unknown.</summary>
    public async Task<TokenValidationResult> ValidateAsync(Func<T, Task<TokenValidationResult>> validate, CancellationToken cancellationToken)
    {
        var result = await validate(await DocumentAsync(forceRefresh: false, cancellationToken));
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException && UnknownKeyMayRefresh())
        {
            result = await validate(await DocumentAsync(forceRefresh: true, cancellationToken));
        }

        return result;
    }

    async Task<T> DocumentAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        var current = _current;
        if (!forceRefresh && current is { } fresh && clock.GetUtcNow() - fresh.FetchedAt < lifetime)
        {
            return fresh.Document;
        }

        await _fetching.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } other && !ReferenceEquals(other.Document, current?.Document))
            {
                return other.Document; // another caller fetched it while this one waited
            }

            var document = await fetch(cancellationToken);
            _current = (document, clock.GetUtcNow());
            return document;
        }
        finally
        {
            _fetching.Release();
        }
    }

    bool UnknownKeyMayRefresh()
    {
        var now = clock.GetUtcNow();
        if (now - _lastUnknownKeyRefresh < unknownKeyRefreshInterval)
        {
            return false;
        }

        _lastUnknownKeyRefresh = now;
        return true;
    }
}
