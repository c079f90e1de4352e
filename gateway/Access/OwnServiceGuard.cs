using System.Threading.RateLimiting;
using Grpc.Core;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Proxy;
using Ketenmesh.Security;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Access;

/// <summary>
/// Who calls the gateway's own services (the audit trail, reflection, named health), and how much it may
/// ask of them: these run on the gateway itself, outside the relay's pipeline and its per-partner rate
/// limit, so they get their own. A token bucket per caller (System.Threading.RateLimiting, what ASP.NET
/// Core's rate limiting runs on), where a call costs what it reads: one permit, or one per 100 audit
/// records of a page. Refusals are on record, folded per source like the relay's (<see cref="FoldedDenials"/>).
/// </summary>
public sealed class OwnServiceGuard : IDisposable
{
    /// <summary>Audit records one permit buys; a full page (<c>ListMyDecisions</c>, 1000) costs 10.</summary>
    public const int RecordsPerPermit = 100;

    /// <summary>The largest page of audit records a call reads; a larger page_size is clamped to it (AIP-158).</summary>
    public const int MaxPageSize = 1000;

    private readonly CallerAuthenticator _authenticator;
    private readonly IDecisionAudit _audit;
    private readonly FoldedDenials _denials;
    private readonly TimeProvider _clock;
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly string _describe;

    public OwnServiceGuard(CallerAuthenticator authenticator, IDecisionAudit audit, FoldedDenials denials, IOptions<GatewayOptions> options, TimeProvider clock)
    {
        _authenticator = authenticator;
        _audit = audit;
        _denials = denials;
        _clock = clock;
        var perSecond = Math.Max(1, options.Value.OwnServicesPermitsPerSecond);
        // Never below the dearest call, or a full page could never be read at all.
        var burst = Math.Max(Math.Max(perSecond, PermitsFor(MaxPageSize)), options.Value.OwnServicesBurst);
        _describe = $"{perSecond} permits per second (bursts up to {burst}; a call costs 1, a page of audit records 1 per {RecordsPerPermit})";
        _limiter = PartitionedRateLimiter.Create<string, string>(caller => RateLimitPartition.GetTokenBucketLimiter(caller, _ => TokenBuckets.Options(perSecond, burst)));
    }

    /// <summary>What reading <paramref name="records"/> audit records costs: ceil(records / 100), at least 1.</summary>
    public static int PermitsFor(int records) => Math.Max(1, (records + RecordsPerPermit - 1) / RecordsPerPermit);

    /// <summary>The caller, or UNAUTHENTICATED on record (folded per remote address).</summary>
    public async Task<PartnerPrincipal> AuthenticateAsync(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var (caller, error) = await _authenticator.AuthenticateAsync(http);
        if (caller is not null)
        {
            return caller.Principal;
        }
        throw await RefuseAsync(context, FoldedDenials.AddressSource(http), "unauthenticated", StatusCode.Unauthenticated, error!);
    }

    /// <summary>Takes <paramref name="permits"/> from the caller's bucket, or refuses the call RESOURCE_EXHAUSTED, on record (folded per partner).</summary>
    public async Task ChargeAsync(ServerCallContext context, PartnerPrincipal caller, int permits)
    {
        using var lease = _limiter.AttemptAcquire(caller.PartnerId, permits);
        if (lease.IsAcquired)
        {
            return;
        }
        var reason = $"Partner '{caller.PartnerId}' exceeded its limit on the gateway's own services of {_describe}; retry after a short pause, or read smaller pages.";
        throw await RefuseAsync(context, FoldedDenials.PartnerSource(caller.PartnerId), caller.PartnerId, StatusCode.ResourceExhausted, reason);
    }

    /// <summary>Puts a refusal of the call on record, folded per <paramref name="source"/>; the caller throws what it returns.</summary>
    public async Task<RpcException> RefuseAsync(ServerCallContext context, string source, string partnerId, StatusCode code, string reason)
    {
        await RecordAsync(context, partnerId, allowed: false, $"{code}: {reason}", subject: null, foldedBy: source);
        return new RpcException(new Status(code, reason));
    }

    /// <summary>
    /// Puts a decision on a call to the gateway's own services on record (folded per <paramref name="foldedBy"/>
    /// when given), or refuses the call UNAVAILABLE when the log cannot take it: nothing is decided off the record.
    /// </summary>
    public async Task RecordAsync(ServerCallContext context, string partnerId, bool allowed, string reason, string? subject, string? foldedBy = null)
    {
        var trace = TrustedHeaders.TraceParent(context.GetHttpContext().Request.Headers);
        var decision = new Decision(_clock.GetUtcNow(), partnerId, "", context.Method.TrimStart('/'), allowed, reason, null, TrustedHeaders.TraceId(trace), subject);
        try
        {
            await (foldedBy is null ? _audit.RecordAsync(decision, context.CancellationToken) : _denials.RecordAsync(foldedBy, decision, context.CancellationToken));
        }
        catch (AuditUnavailableException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The gateway cannot record decisions right now, so it decides nothing; try again shortly."));
        }
    }

    public void Dispose() => _limiter.Dispose();
}
