using System.Threading.RateLimiting;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// How many sign-ins the login form takes. Each attempt costs a PBKDF2 hash (tens of milliseconds of a core, by
/// design), so a flood of them from anyone would slow the partners' token endpoint on the same process; and an
/// account's password should not be tried over and over. An account gets <see cref="FailuresPerAccount"/> failed
/// attempts a minute: each attempt takes one before its password is checked (so attempts sent at once cannot all slip
/// in) and gives it back when it succeeds; once they are used up the account is refused for the rest of the minute,
/// the right password too. At most as many hashes run at once as the machine has cores, with a short queue behind.
/// </summary>
internal sealed class SignInThrottle(TimeProvider clock) : IDisposable
{
    public const int FailuresPerAccount = 5;

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Accounts tracked at once; names are the caller's to choose, so the table is bounded.</summary>
    private const int MaxAccounts = 10_000;

    private readonly Dictionary<string, (DateTimeOffset Since, int Attempts)> _accounts = new(StringComparer.Ordinal);

    private readonly ConcurrencyLimiter _hashing = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = Environment.ProcessorCount,
        QueueLimit = 4 * Environment.ProcessorCount,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>Takes one of the account's attempts for this minute; false when none is left.</summary>
    public bool TryBegin(string account)
    {
        lock (_accounts)
        {
            var now = clock.GetUtcNow();
            if (_accounts.Count >= MaxAccounts)
            {
                foreach (var stale in _accounts.Where(a => now - a.Value.Since >= Window).Select(a => a.Key).ToList())
                {
                    _accounts.Remove(stale);
                }
                if (_accounts.Count >= MaxAccounts)
                {
                    // Crude but bounded: a flood of invented names only costs the real ones their count.
                    _accounts.Clear();
                }
            }
            var window = _accounts.TryGetValue(account, out var known) && now - known.Since < Window ? known : (Since: now, Attempts: 0);
            if (window.Attempts >= FailuresPerAccount)
            {
                return false;
            }
            _accounts[account] = (window.Since, window.Attempts + 1);
            return true;
        }
    }

    /// <summary>The attempt signed the account in, or never got to check the password: it does not count against it.</summary>
    public void GiveBack(string account)
    {
        lock (_accounts)
        {
            if (_accounts.TryGetValue(account, out var window) && window.Attempts > 0)
            {
                _accounts[account] = (window.Since, window.Attempts - 1);
            }
        }
    }

    /// <summary>A turn to hash a password, or a lease that is not acquired when too many wait already.</summary>
    public ValueTask<RateLimitLease> TurnAsync(CancellationToken cancellationToken) => _hashing.AcquireAsync(1, cancellationToken);

    public void Dispose() => _hashing.Dispose();
}
