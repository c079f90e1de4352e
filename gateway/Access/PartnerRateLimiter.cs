using System.Threading.RateLimiting;
using Grpc.Core;
using Ketenmesh.Gateway.Forwarding;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Access;

/// <summary>
/// A token bucket per partner, so one partner's burst cannot starve the chain: ASP.NET Core's rate
/// limiting middleware in the gateway's pipeline, after authentication (it partitions by the partner
/// the token names). A refusal is on record (repeats folded, see <see cref="FoldedDenials"/>) and answered RESOURCE_EXHAUSTED, as gRPC clients expect.
/// </summary>
public sealed class PartnerRateLimiter
{
    public PartnerRateLimiter(IOptions<GatewayOptions> options, FoldedDenials denials)
    {
        var perSecond = Math.Max(1, options.Value.RateLimitPerSecond);
        var burst = Math.Max(perSecond, options.Value.RateLimitBurst);
        Describe = $"{perSecond} calls per second (bursts up to {burst})";
        Options = new RateLimiterOptions
        {
            GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => RateLimitPartition.GetTokenBucketLimiter(
                http.Call().PartnerId, _ => TokenBuckets.Options(perSecond, burst))),
            // The answer is a gRPC status on an HTTP 200, like every other refusal.
            RejectionStatusCode = StatusCodes.Status200OK,
            OnRejected = async (context, _) =>
            {
                var http = context.HttpContext;
                // Folded per partner: a partner hammering past its limit must not write a record per refused call.
                await denials.DenyByPartnerAsync(http, StatusCode.ResourceExhausted, $"Partner '{http.Call().PartnerId}' exceeded its rate limit of {Describe}; retry after a short pause.");
            },
        };
    }

    public string Describe { get; }

    public RateLimiterOptions Options { get; }
}
