using System.Threading.RateLimiting;

namespace Ketenmesh.Gateway.Access;

/// <summary>The token bucket both of the gateway's rate limits use (the relay's per partner, its own services' per caller).</summary>
internal static class TokenBuckets
{
    /// <summary>
    /// A bucket holding <paramref name="burst"/> that refills at exactly <paramref name="perSecond"/> a second, in
    /// small steps: a tenth of the rate at a time (one token where the rate is below 10), each after the time that
    /// many tokens take. So 2 a second is one token every 500 ms, 15 one every 67 ms, 2000 two hundred every 100 ms.
    /// </summary>
    public static TokenBucketRateLimiterOptions Options(int perSecond, int burst)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perSecond, 1);
        var step = Math.Max(1, perSecond / 10);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = step,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)step / perSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }
}
