using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Access;

/// <summary>A token bucket per partner, so one partner's burst cannot starve the chain.</summary>
public sealed class PartnerRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public PartnerRateLimiter(IOptions<GatewayOptions> options)
    {
        var perSecond = Math.Max(1, options.Value.RateLimitPerSecond);
        var burst = Math.Max(perSecond, options.Value.RateLimitBurst);
        Describe = $"{perSecond} calls per second (bursts up to {burst})";
        _limiter = PartitionedRateLimiter.Create<string, string>(partner => RateLimitPartition.GetTokenBucketLimiter(partner, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = Math.Max(1, perSecond / 10),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public string Describe { get; }

    /// <returns>True when the partner may make one more call now.</returns>
    public bool TryAcquire(string partnerId)
    {
        using var lease = _limiter.AttemptAcquire(partnerId);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
