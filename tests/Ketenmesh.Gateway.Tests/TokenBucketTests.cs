using Ketenmesh.Gateway.Access;

namespace Ketenmesh.Gateway.Tests;

/// <summary>The bucket both rate limits use refills at the configured rate, whatever the rate.</summary>
public sealed class TokenBucketTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(15)]
    [InlineData(2000)]
    [InlineData(1_000_000)]
    public void A_bucket_refills_at_the_rate_it_was_given(int perSecond)
    {
        var bucket = TokenBuckets.Options(perSecond, burst: 40);

        Assert.Equal(perSecond, bucket.TokensPerPeriod / bucket.ReplenishmentPeriod.TotalSeconds, perSecond * 1e-4);
        Assert.InRange(bucket.ReplenishmentPeriod, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));
        Assert.Equal(40, bucket.TokenLimit);
    }
}
