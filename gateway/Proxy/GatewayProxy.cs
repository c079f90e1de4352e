using System.Net;
using Google.Protobuf.Reflection;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Access;
using Grpc.Core;
using Ketenmesh.Gateway.Proxy.Wire;
using Ketenmesh.Policy;
using Ketenmesh.Policy.Decisions;
using Ketenmesh.Security;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Proxy;

/// <summary>
/// Every partner call: authenticate, rate-limit, decide on purpose and grant, audit, then relay to the
/// owning service and minimise each response message on the way back. Nothing reaches a service or
/// leaves the gateway before its audit record is durable; anything the gateway cannot check is refused.
/// </summary>
public sealed class GatewayProxy(
    CallerAuthenticator authenticator,
    PartnerRateLimiter rateLimiter,
    CurrentPolicy policy,
    UpstreamRoutes routes,
    TransactionTokenIssuer transactionTokens,
    IDecisionAudit audit,
    TimeProvider clock,
    IOptions<GatewayOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<GatewayProxy> logger)
{
    private readonly int _maxLength = options.Value.MaxMessageSize;

    public async Task HandleAsync(HttpContext http)
    {
        // Ends when the caller leaves or, once grpc-timeout is read, when the call's deadline passes.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        try
        {
            await DecideAndRelayAsync(http, deadline);
        }
        catch (AuditUnavailableException e)
        {
            // No record, no decision: whatever was decided, nothing goes ahead without its audit record.
            // The log gives up within Audit:AppendTimeout, so this comes well before a partner's deadline.
            // One line per call without the trace: the log writer reports the cause, once per attempt.
            logger.LogWarning("The audit log is unavailable ({Error}); refusing the call.", e.GetBaseException().Message);
            if (!http.Response.HasStarted)
            {
                Refuse(http, new Status(StatusCode.Unavailable, "The gateway cannot record decisions right now, so it decides nothing; try again shortly."));
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            // The deadline ran out before the decision was on record (the relay answers its own
            // cancellations): nothing was forwarded.
            if (!http.Response.HasStarted)
            {
                Refuse(http, new Status(StatusCode.DeadlineExceeded, "Deadline exceeded at the gateway before its decision was on record."));
            }
        }
    }

    private async Task DecideAndRelayAsync(HttpContext http, CancellationTokenSource deadline)
    {
        if (!await ProtocolGuard.AcceptAsync(http))
        {
            return;
        }
        var path = http.Request.Path.Value ?? "";
        var methodName = path.TrimStart('/');
        var now = clock.GetUtcNow();
        var traceParent = TrustedHeaders.TraceParent(http.Request.Headers);
        string? purpose = http.Request.Headers[TrustedHeaders.Purpose];
        // Both come from the caller and end up in the audit log: bounded, whatever was sent.
        var call = new CallFacts(Bounded(methodName, 200), Bounded(purpose ?? "", 64), TrustedHeaders.TraceId(traceParent));

        TimeSpan? timeout = null;
        if (http.Request.Headers.TryGetValue(GrpcHeaders.Timeout, out var timeoutHeader))
        {
            if (!GrpcTimeout.TryParse(timeoutHeader, out var parsed))
            {
                Refuse(http, new Status(StatusCode.Internal, $"Malformed grpc-timeout '{timeoutHeader}'."));
                return;
            }
            timeout = parsed;
            deadline.CancelAfter(parsed);
        }
        var arrived = clock.GetTimestamp();

        var (caller, authError) = await authenticator.AuthenticateAsync(http);
        if (caller is null)
        {
            await DenyAsync(http, call with { PartnerId = "unauthenticated" }, StatusCode.Unauthenticated, authError!, null, now, deadline.Token);
            return;
        }
        call = call with { PartnerId = caller.Principal.PartnerId };
        if (!rateLimiter.TryAcquire(caller.Principal.PartnerId))
        {
            await DenyAsync(http, call, StatusCode.ResourceExhausted, $"Partner '{call.PartnerId}' exceeded its rate limit of {rateLimiter.Describe}; retry after a short pause.", null, now, deadline.Token);
            return;
        }

        // One snapshot for the whole call: a publication landing mid-call must not mix two policies.
        var current = policy.Value;
        var verdict = current.Decide(new AccessRequest(caller.Principal.PartnerId, caller.Principal.Purposes, purpose, methodName, caller.CertificateBound), now);
        var method = current.Catalog.Find(methodName);
        Frame? single = null;
        if (verdict.Allowed && !method!.IsClientStreaming)
        {
            // One request message: read it first, for the grant's preconditions and the subject the audit names.
            (single, var problem) = await ReadSingleRequestAsync(http);
            if (single is null)
            {
                await DenyAsync(http, call, StatusCode.Internal, problem!, verdict.Grant, now, deadline.Token);
                return;
            }
            var plain = FrameReader.Plain(single.Value, _maxLength);
            call = call with { Subject = SubjectPseudonym.Find(method.InputType, plain) };
            if (verdict.Access!.CheckRequest(plain) is { } unmet)
            {
                verdict = AccessVerdict.Deny(unmet, verdict.Grant);
            }
        }
        if (!verdict.Allowed)
        {
            var code = verdict.Denial == Denial.Unauthenticated ? StatusCode.Unauthenticated : StatusCode.PermissionDenied;
            await DenyAsync(http, call, code, verdict.Reason, verdict.Grant, now, deadline.Token);
            return;
        }
        var upstream = routes.Find(method!);
        if (upstream is null)
        {
            await DenyAsync(http, call, StatusCode.Unavailable, $"No service is configured for package {method!.File.Package}.", verdict.Grant, now, deadline.Token);
            return;
        }
        // On record before the service sees the call: no service acts, and no answer leaves, on an unrecorded decision.
        // The wait is bounded by Audit:AppendTimeout, and by the call's own deadline when that is sooner.
        await audit.RecordAsync(call.Decision(now, allowed: true, verdict.Reason, verdict.Grant), deadline.Token);
        // The service gets what is left of the deadline, not all of it again.
        var remaining = timeout - clock.GetElapsedTime(arrived);
        await RelayAsync(http, call, method!, verdict, caller, upstream, single, traceParent, remaining, deadline.Token);
    }

    private async Task RelayAsync(HttpContext http, CallFacts call, MethodDescriptor method, AccessVerdict verdict, Caller caller,
        Uri upstream, Frame? single, string traceParent, TimeSpan? timeout, CancellationToken deadline)
    {
        // Streams can outlive any shutdown wait, so they also end when the gateway stops; a unary call is let finish.
        var stopping = method.IsServerStreaming || method.IsClientStreaming ? lifetime.ApplicationStopping : CancellationToken.None;
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(deadline, stopping);
        var streamed = single is null ? RequestBody.Streamed(http.Request.BodyReader, verdict.Access!, _maxLength) : null;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(upstream, "/" + call.Method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = single is { } frame ? RequestBody.Single(frame) : streamed,
        };
        // What the service believes, and all it believes: signed for this service and this method, for seconds.
        var transactionToken = transactionTokens.Mint("/" + call.Method,
            new TransactionContext(caller.Principal.PartnerId, call.Purpose, verdict.Grant!.GrantId, call.Subject, call.TraceId));
        TrustedHeaders.Apply(http.Request.Headers, request, transactionToken, traceParent);
        if (timeout is { } remaining)
        {
            request.Headers.TryAddWithoutValidation(GrpcHeaders.Timeout, GrpcTimeout.Format(remaining));
        }

        var relay = new ResponseRelay(http, verdict.Access!.ResponseMask, _maxLength, method.IsServerStreaming);
        try
        {
            using var response = await routes.Invoker.SendAsync(request, cancellation.Token);
            await relay.RelayAsync(response, cancellation.Token);
        }
        catch (Exception e) when (http.RequestAborted.IsCancellationRequested)
        {
            logger.LogDebug(e, "Caller left {Method} before it finished.", call.Method);
        }
        catch (Exception) when (streamed?.Refusal is { } refusal)
        {
            await audit.RecordAsync(call.Decision(clock.GetUtcNow(), allowed: false, refusal, verdict.Grant), CancellationToken.None);
            relay.End(new Status(StatusCode.PermissionDenied, refusal));
        }
        catch (Exception e) when (stopping.IsCancellationRequested && e is OperationCanceledException or HttpRequestException or IOException or HttpProtocolException or RpcException)
        {
            // While the gateway stops, the upstream may drop the stream before the cancel is seen, even
            // inside a frame; either way the partner is told the one thing it can act on: call again to resume.
            relay.End(new Status(StatusCode.Unavailable, "The gateway is shutting down; call again to resume."));
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            relay.End(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded at the gateway."));
        }
        catch (HttpRequestException e) when (!relay.Started)
        {
            logger.LogWarning("{Package} is unreachable: {Error}", method.File.Package, e.Message);
            relay.End(new Status(StatusCode.Unavailable, $"The service for {method.File.Package} is not reachable; try again."));
        }
        catch (Exception e) when (e is HttpRequestException or IOException or HttpProtocolException)
        {
            relay.End(ResponseRelay.StatusOfBrokenStream(e));
        }
        catch (RpcException e)
        {
            relay.End(e.Status);
        }
        catch (InvalidDataException)
        {
            // The upstream answer is not the contract's message: never pass on what could not be minimised.
            relay.End(new Status(StatusCode.Internal, "The service's answer could not be minimised, so it was withheld."));
        }
    }

    /// <summary>The single message of a unary or server-streaming request, or why there is not exactly one.</summary>
    private async Task<(Frame?, string?)> ReadSingleRequestAsync(HttpContext http)
    {
        var reader = http.Request.BodyReader;
        try
        {
            var frame = await FrameReader.ReadAsync(reader, _maxLength, http.RequestAborted);
            if (frame is null)
            {
                return (null, "The request ended without a message; this method takes exactly one.");
            }
            if (await FrameReader.ReadAsync(reader, _maxLength, http.RequestAborted) is not null)
            {
                return (null, "The request carried more than one message; this method takes exactly one.");
            }
            return (frame, null);
        }
        catch (RpcException e)
        {
            return (null, e.Status.Detail);
        }
    }

    private async Task DenyAsync(HttpContext http, CallFacts call, StatusCode code, string reason, EnforcedGrant? grant, DateTimeOffset now, CancellationToken deadline)
    {
        await audit.RecordAsync(call.Decision(now, allowed: false, $"{code}: {reason}", grant), deadline);
        Refuse(http, new Status(code, reason));
    }

    private static string Bounded(string value, int length) => value.Length <= length ? value : value[..length];

    private static void Refuse(HttpContext http, Status status) =>
        GrpcStatusWriter.Write(http.Response, status);

    /// <summary>What the audit needs to know about a call, filled in as the gateway learns it.</summary>
    private sealed record CallFacts(string Method, string Purpose, string TraceId)
    {
        public string PartnerId { get; init; } = "";

        public string? Subject { get; init; }

        public Decision Decision(DateTimeOffset time, bool allowed, string reason, EnforcedGrant? grant) =>
            new(time, PartnerId, Purpose, Method, allowed, reason, grant, TraceId, Subject);
    }
}
