using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Gateway.Proxy;
using Ketenmesh.Gateway.Proxy.Wire;
using Ketenmesh.Policy;
using Ketenmesh.Policy.Decisions;
using Ketenmesh.Security;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Ketenmesh.Gateway.Forwarding;

/// <summary>
/// Every partner call, as steps of YARP's proxy pipeline: who calls (JwtBearer), how often (ASP.NET Core
/// rate limiting), for which purpose under which grant, whether the request meets the grant's
/// preconditions, and the durable audit record; only then does YARP forward, and the response comes
/// back through <see cref="GatewayTransforms"/>, minimised message by message.
/// </summary>
internal static class GatewayPipeline
{
    public static void Configure(IReverseProxyApplicationBuilder proxy)
    {
        proxy.UseMiddleware<CallBoundary>();
        proxy.UseMiddleware<PartnerAuthentication>();
        proxy.UseRateLimiter(proxy.ApplicationServices.GetRequiredService<PartnerRateLimiter>().Options);
        proxy.UseMiddleware<PurposeAuthorization>();
        proxy.UseMiddleware<RequestPreconditions>();
        proxy.UseMiddleware<AuditBeforeForwarding>();
        // YARP's own steps: which destination, and what it learns from failed calls.
        proxy.UseSessionAffinity();
        proxy.UseLoadBalancing();
        proxy.UsePassiveHealthChecks();
    }

    public static PartnerCall Call(this HttpContext http) =>
        http.Features.Get<PartnerCall>() ?? throw new InvalidOperationException("The call did not pass the gateway's call boundary.");

    /// <summary>Records a refusal, then gives the caller its status: nothing is refused off the record.</summary>
    public static Task DenyAsync(this HttpContext http, IDecisionAudit audit, StatusCode code, string reason, EnforcedGrant? grant = null) =>
        http.DenyAsync(audit.RecordAsync, code, reason, grant);

    /// <summary>Puts a refusal on record through <paramref name="record"/> (folded, say), then gives the caller its status.</summary>
    public static async Task DenyAsync(this HttpContext http, Func<Decision, CancellationToken, ValueTask> record, StatusCode code, string reason, EnforcedGrant? grant = null)
    {
        var call = http.Call();
        await record(call.Decision(call.Arrived, allowed: false, $"{code}: {reason}", grant), call.Deadline.Token);
        Refuse(http, new Status(code, reason));
    }

    public static void Refuse(HttpContext http, Status status)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        GrpcStatusWriter.Write(http.Response, status);
    }
}

/// <summary>
/// The first step: only gRPC passes; the call's deadline (grpc-timeout) becomes the token YARP forwards
/// under; and whatever ends the call early (audit outage, deadline, unreachable service, shutdown) is
/// answered with a gRPC status, never an HTTP error page.
/// </summary>
internal sealed class CallBoundary(RequestDelegate next, IDecisionAudit audit, TimeProvider clock, ILogger<CallBoundary> logger, IOptions<GatewayOptions> options)
{
    private const int MaxMethodLength = 200;
    private const int MaxPurposeLength = 64;

    private readonly TimeSpan _streamEndGrace = options.Value.StreamEndGrace;

    public async Task InvokeAsync(HttpContext http)
    {
        await DecideAndForwardAsync(http);
        // Here, after whatever status the call ended with was written (by the relay or by this boundary).
        if (http.Features.Get<PartnerCall>() is { Stopping: true, Descriptor.IsClientStreaming: true } call)
        {
            await LetThePartnerReadTheEndAsync(http, call.CallerLeft);
        }
    }

    private async Task DecideAndForwardAsync(HttpContext http)
    {
        if (!await ProtocolGuard.AcceptAsync(http))
        {
            return;
        }
        // What YARP does for any gRPC call, done before a step reads the body (which makes it read-only):
        // a client stream may run for hours; each message's size is bounded by MaxMessageSize.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }
        TimeSpan? timeout = null;
        if (http.Request.Headers.TryGetValue(GrpcHeaders.Timeout, out var timeoutHeader))
        {
            if (!GrpcTimeout.TryParse(timeoutHeader, out var parsed))
            {
                GatewayPipeline.Refuse(http, new Status(StatusCode.Internal, $"Malformed grpc-timeout '{timeoutHeader}'."));
                return;
            }
            timeout = parsed;
        }
        var callerLeft = http.RequestAborted;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(callerLeft);
        if (timeout is { } limit)
        {
            deadline.CancelAfter(limit);
        }
        string? purpose = http.Request.Headers[TrustedHeaders.Purpose];
        // Only the one leading slash goes: '//chain.signals.v1.SignalIntake/ListMySignals' must not be decided as the
        // method it resembles while YARP forwards the path as sent.
        var sent = http.Request.Path.Value ?? "";
        var path = sent.StartsWith('/') ? sent[1..] : sent;
        // Both come from the caller and end up in the audit log: bounded, whatever was sent.
        var call = new PartnerCall(Bounded(path, MaxMethodLength), Bounded(purpose ?? "", MaxPurposeLength),
            TrustedHeaders.TraceParent(http.Request.Headers), clock.GetUtcNow(), clock.GetTimestamp(), timeout, deadline, callerLeft)
        {
            DeclaredPurpose = purpose,
            Path = path,
        };
        http.Features.Set(call);
        // YARP forwards until RequestAborted fires: from here on, that is the call's deadline too.
        http.RequestAborted = deadline.Token;
        try
        {
            await next(http);
        }
        catch (AuditUnavailableException e)
        {
            // No record, no decision: whatever was decided, nothing goes ahead without its audit record.
            // The log gives up within Audit:AppendTimeout, so this comes well before a partner's deadline.
            logger.LogWarning("The audit log is unavailable ({Error}); refusing the call.", e.GetBaseException().Message);
            RefuseIfNotStarted(http, new Status(StatusCode.Unavailable, "The gateway cannot record decisions right now, so it decides nothing; try again shortly."));
            return;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !callerLeft.IsCancellationRequested)
        {
            // The deadline ran out before the decision was on record: nothing was forwarded.
            RefuseIfNotStarted(http, new Status(StatusCode.DeadlineExceeded, "Deadline exceeded at the gateway before its decision was on record."));
            return;
        }
        finally
        {
            http.RequestAborted = callerLeft;
        }

        if (call.Refusal is { } refusal)
        {
            // A message in the middle of a client stream broke the grant's preconditions, or was no message the
            // gateway relays: on record, like any refusal.
            await audit.RecordAsync(call.Decision(clock.GetUtcNow(), allowed: false, $"{refusal.StatusCode}: {refusal.Detail}", call.Verdict?.Grant), CancellationToken.None);
        }
        if (http.Features.Get<IForwarderErrorFeature>() is { } error && !http.Response.HasStarted)
        {
            var status = call.CutShort() ?? (callerLeft.IsCancellationRequested ? (Status?)null : Unreachable(call, error));
            if (status is { } answer)
            {
                http.Response.Clear();
                GatewayPipeline.Refuse(http, answer);
            }
        }
    }

    /// <summary>
    /// The gateway stopped a client stream whose partner may still be sending. Its status is sent, and the server resets
    /// the partner's side; but the connection closes as soon as the last call on it returns, and a partner that has not
    /// read the status by then may hear only that the connection closed (.NET's HttpClient reports exactly that, with
    /// its request side still open). Nothing comes back from a partner that has read the status, so the call holds its
    /// connection open for <see cref="GatewayOptions.StreamEndGrace"/>, unless the partner leaves sooner.
    /// </summary>
    private async Task LetThePartnerReadTheEndAsync(HttpContext http, CancellationToken partnerLeft)
    {
        try
        {
            await http.Response.CompleteAsync();
            await Task.Delay(_streamEndGrace, partnerLeft);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or Microsoft.AspNetCore.Connections.ConnectionAbortedException)
        {
            // Reset or gone: the call ends now either way.
        }
    }

    private Status Unreachable(PartnerCall call, IForwarderErrorFeature error)
    {
        var package = call.Descriptor?.File.Package ?? "this method";
        if (error.Error == ForwarderError.NoAvailableDestinations)
        {
            return new Status(StatusCode.Unavailable, $"No service is configured for {package}.");
        }
        logger.LogWarning("{Package} is unreachable ({Error}): {Reason}", package, error.Error, error.Exception?.GetBaseException().Message);
        return new Status(StatusCode.Unavailable, $"The service for {package} is not reachable; try again.");
    }

    private static void RefuseIfNotStarted(HttpContext http, Status status)
    {
        if (!http.Response.HasStarted)
        {
            http.Response.Clear();
            GatewayPipeline.Refuse(http, status);
        }
    }

    private static string Bounded(string value, int length) => value.Length <= length ? value : value[..length];
}

/// <summary>Who is calling, from the bearer token (and certificate); a call without a valid one goes no further.</summary>
internal sealed class PartnerAuthentication(RequestDelegate next, CallerAuthenticator authenticator, FoldedDenials denials)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var (caller, error) = await authenticator.AuthenticateAsync(http);
        if (caller is null)
        {
            // Anyone can send these, as fast as they like: folded per remote address, so a flood cannot fill the log.
            await denials.DenyByAddressAsync(http, StatusCode.Unauthenticated, error!);
            return;
        }
        var call = http.Call();
        call.Caller = caller;
        call.PartnerId = caller.Principal.PartnerId;
        await next(http);
    }
}

/// <summary>
/// The purpose decision: does a grant in force let this partner call this method for the purpose it
/// declares, a purpose its token carries. One policy snapshot per call, so a publication landing mid-call
/// cannot mix two policies.
/// </summary>
internal sealed class PurposeAuthorization(RequestDelegate next, CurrentPolicy policy, IDecisionAudit audit, IHostApplicationLifetime lifetime)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var call = http.Call();
        var caller = call.Caller!;
        var current = policy.Value;
        var verdict = current.Decide(new AccessRequest(caller.Principal.PartnerId, caller.Principal.Purposes, call.DeclaredPurpose, call.Path, caller.CertificateBound), call.Arrived);
        call.Verdict = verdict;
        call.Descriptor = current.Catalog.Find(call.Path);
        if (!verdict.Allowed)
        {
            var code = verdict.Denial == Denial.Unauthenticated ? StatusCode.Unauthenticated : StatusCode.PermissionDenied;
            await http.DenyAsync(audit, code, verdict.Reason, verdict.Grant);
            return;
        }
        var method = call.Descriptor!;
        // Streams can outlive any shutdown wait, so they end when the gateway stops; a unary call is let finish.
        var stream = method.IsServerStreaming || method.IsClientStreaming;
        if (stream)
        {
            call.EndsWithHost = lifetime.ApplicationStopping;
        }
        using var stopping = stream ? lifetime.ApplicationStopping.Register(call.Stop) : default;
        await next(http);
    }
}

/// <summary>
/// The grant's request preconditions (a consent id, say). A method with one request message has it read
/// here, parsed as the method's type, checked, and named in the audit by its subject; a client stream has
/// each message parsed and checked as it passes, and is cut off at the first that fails. Either way the
/// service gets the parsed message re-encoded (<see cref="CanonicalRequest"/>).
/// </summary>
internal sealed class RequestPreconditions(RequestDelegate next, IDecisionAudit audit, IOptions<GatewayOptions> options)
{
    private readonly int _maxLength = options.Value.MaxMessageSize;

    public async Task InvokeAsync(HttpContext http)
    {
        var call = http.Call();
        var method = call.Descriptor!;
        var access = call.Verdict!.Access!;
        if (method.IsClientStreaming)
        {
            // A client stream may pause as long as its partner likes. A single message keeps Kestrel's
            // minimum data rate while it is read here, so a stalled body without a deadline is cut off.
            if (http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } dataRate)
            {
                dataRate.MinDataRate = null;
            }
            http.Request.Body = new CheckedRequestStream(http.Request.BodyReader, access, _maxLength, call);
            await next(http);
            return;
        }
        Frame? single;
        Status? problem;
        try
        {
            (single, problem) = await ReadSingleRequestAsync(http, call.Deadline.Token);
        }
        catch (OperationCanceledException) when (call.CutShort() is { StatusCode: StatusCode.DeadlineExceeded })
        {
            // The message did not arrive within the deadline (a stalled or trickling body): refused and on record,
            // or a caller could hold calls open off the record. The deadline has passed, so only
            // Audit:AppendTimeout bounds the record.
            var late = new Status(StatusCode.DeadlineExceeded, "Deadline exceeded at the gateway: the request message did not arrive in time.");
            await audit.RecordAsync(call.Decision(call.Arrived, allowed: false, $"{late.StatusCode}: {late.Detail}", call.Verdict.Grant), CancellationToken.None);
            GatewayPipeline.Refuse(http, late);
            return;
        }
        if (single is not { } frame)
        {
            await http.DenyAsync(audit, problem!.Value.StatusCode, problem.Value.Detail, call.Verdict.Grant);
            return;
        }
        IMessage request;
        byte[] canonical;
        try
        {
            request = CanonicalRequest.Parse(method.InputType, FrameReader.Plain(frame, _maxLength));
            canonical = CanonicalRequest.Frame(request, _maxLength);
        }
        catch (RpcException e)
        {
            // Compressed with a codec it does not follow, inflating past the limit, or no message of the
            // method's type: refused, on record, nothing forwarded.
            await http.DenyAsync(audit, e.StatusCode, e.Status.Detail, call.Verdict.Grant);
            return;
        }
        call.Subject = SubjectPseudonym.Find(request);
        if (access.CheckRequest(request) is { } unmet)
        {
            var denied = AccessVerdict.Deny(unmet, call.Verdict.Grant);
            await http.DenyAsync(audit, StatusCode.PermissionDenied, denied.Reason, denied.Grant);
            return;
        }
        // YARP forwards the message that was audited and checked, as protobuf encodes it: not the partner's
        // bytes, which the service might read differently (a field sent twice, say).
        http.Request.Body = new MemoryStream(canonical, writable: false);
        await next(http);
    }

    /// <summary>The single message of a unary or server-streaming request, or why there is not exactly one.</summary>
    private async Task<(Frame?, Status?)> ReadSingleRequestAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var reader = http.Request.BodyReader;
        try
        {
            var frame = await FrameReader.ReadAsync(reader, _maxLength, cancellationToken);
            if (frame is null)
            {
                return (null, new Status(StatusCode.Internal, "The request ended without a message; this method takes exactly one."));
            }
            if (await FrameReader.ReadAsync(reader, _maxLength, cancellationToken) is not null)
            {
                return (null, new Status(StatusCode.Internal, "The request carried more than one message; this method takes exactly one."));
            }
            return (frame, null);
        }
        catch (RpcException e)
        {
            return (null, e.Status);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            // Kestrel's minimum data rate: a message that trickles in (or stalls) holds nothing for long.
            return (null, new Status(StatusCode.ResourceExhausted, "The request message arrived too slowly; send it whole, and set a deadline (grpc-timeout)."));
        }
    }
}

/// <summary>On record before the service sees the call: no service acts, and no answer leaves, on an unrecorded decision.</summary>
internal sealed class AuditBeforeForwarding(RequestDelegate next, IDecisionAudit audit, TransactionTokenIssuer transactionTokens, GatewaySteps steps, TimeProvider clock)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var call = http.Call();
        var recording = clock.GetTimestamp();
        steps.Measured(GatewaySteps.Decide, clock.GetElapsedTime(call.ArrivedTimestamp, recording));
        // Bounded by Audit:AppendTimeout, and by the call's own deadline when that is sooner.
        var recorded = audit.RecordAsync(call.Decision(call.Arrived, allowed: true, call.Verdict!.Reason, call.Verdict.Grant), call.Deadline.Token);
        try
        {
            // Signed while the record is being made durable, so one call waits for the disk or the
            // signature, not both; it leaves only after the record is on disk (the await below).
            call.TransactionToken = transactionTokens.Mint("/" + call.Method,
                new TransactionContext(call.PartnerId, call.Purpose, call.Verdict.Grant!.GrantId, call.Subject, call.TraceId));
        }
        finally
        {
            await recorded;
        }
        var forwarding = clock.GetTimestamp();
        steps.Measured(GatewaySteps.Record, clock.GetElapsedTime(recording, forwarding));
        await next(http);
        if (call.Descriptor is { IsServerStreaming: false, IsClientStreaming: false })
        {
            steps.Measured(GatewaySteps.Forward, clock.GetElapsedTime(forwarding));
        }
    }
}
