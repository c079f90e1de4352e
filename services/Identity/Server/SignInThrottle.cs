using System.Threading.RateLimiting;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// How many sign-ins the login form takes. Each attempt costs a PBKDF2 hash (tens of milliseconds of a core, by
/// design), so a flood of them from anyone would slow the partners' token endpoint on the same process; and an
/// account's password should not be tried over and over. An account that failed <see cref="FailuresPerAccount"/>
/// times within a minute is refused for the rest of that minute, the right password too; and at most as many
/// hashes run at once as the machine has cores, with a short queue behind them.
/// </summary>
internal sealed class SignInThrottle : IDisposable
{
    public const int FailuresPerAccount = 5;

    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(account =>
        RateLimitPartition.GetFixedWindowLimiter(account, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = FailuresPerAccount,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    private readonly ConcurrencyLimiter _hashing = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = Environment.ProcessorCount,
        QueueLimit = 4 * Environment.ProcessorCount,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>True while the account has used up its failures for this minute.</summary>
    public bool IsResting(string account) => _failures.GetStatistics(account)?.CurrentAvailablePermits == 0;

    /// <summary>Counts a failed attempt against the account.</summary>
    public void Failed(string account) => _failures.AttemptAcquire(account).Dispose();

    /// <summary>A turn to hash a password, or a lease that is not acquired when too many wait already.</summary>
    public ValueTask<RateLimitLease> TurnAsync(CancellationToken cancellationToken) => _hashing.AcquireAsync(1, cancellationToken);

    public void Dispose()
    {
        _failures.Dispose();
        _hashing.Dispose();
    }
}
