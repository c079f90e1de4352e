using Google.Protobuf.Reflection;
using Grpc.Core;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Policy.Decisions;

namespace Ketenmesh.Gateway.Forwarding;

/// <summary>
/// What the gateway knows about one partner call, filled in step by step along the pipeline
/// (<see cref="GatewayPipeline"/>) and read by the YARP transforms. Lives in the call's features.
/// </summary>
internal sealed class PartnerCall(string method, string purpose, string traceParent, DateTimeOffset arrived, long arrivedTimestamp, TimeSpan? timeout,
    CancellationTokenSource deadline, CancellationToken callerLeft)
{
    /// <summary>The path as sent, for the policy to look up (what the audit keeps is <see cref="Method"/>).</summary>
    public required string Path { get; init; }

    /// <summary>The purpose header as sent; null when there was none.</summary>
    public required string? DeclaredPurpose { get; init; }

    /// <summary>When the call arrived, on the gateway's clock's timestamp scale (for what is left of its deadline).</summary>
    public long ArrivedTimestamp { get; } = arrivedTimestamp;

    /// <summary>Fires when the caller hangs up; it then hears nothing more.</summary>
    public CancellationToken CallerLeft { get; } = callerLeft;

    /// <summary>The path without its slash (<c>chain.signals.v1.SignalIntake/Submit</c>), bounded: it comes from the caller.</summary>
    public string Method { get; } = method;

    /// <summary>The declared purpose (<c>x-purpose</c>), bounded.</summary>
    public string Purpose { get; } = purpose;

    public string TraceParent { get; } = traceParent;

    public string TraceId => TraceParent.Substring(3, 32);

    public DateTimeOffset Arrived { get; } = arrived;

    /// <summary>The caller's <c>grpc-timeout</c>, if it sent one.</summary>
    public TimeSpan? Timeout { get; } = timeout;

    /// <summary>Fires when the caller leaves, the deadline passes or (for streams) the gateway stops.</summary>
    public CancellationTokenSource Deadline { get; } = deadline;

    public string PartnerId { get; set; } = "unauthenticated";

    public Caller? Caller { get; set; }

    public MethodDescriptor? Descriptor { get; set; }

    public AccessVerdict? Verdict { get; set; }

    public string? Subject { get; set; }

    /// <summary>The transaction token the service gets: minted once the call is allowed, sent once it is on record.</summary>
    public string? TransactionToken { get; set; }

    /// <summary>
    /// True once the gateway ends a stream because it is stopping: from the moment the host begins to stop, not only
    /// once <see cref="Stop"/> ran. Stopping callbacks run one after another, so a service in the same host may end
    /// its side of the stream before this call's own callback does; that ending is still the gateway stopping.
    /// </summary>
    public bool Stopping => _stopped || EndsWithHost.IsCancellationRequested;

    /// <summary>For a stream, the host's stopping token (unary calls are let finish, so theirs stays none).</summary>
    public CancellationToken EndsWithHost { get; set; }

    private bool _stopped;

    /// <summary>
    /// Why a client stream was cut off: one of its messages broke the grant's preconditions
    /// (PERMISSION_DENIED), or was no message the gateway relays (oversized, malformed, not inflatable).
    /// </summary>
    public Status? Refusal { get; set; }

    /// <summary>How the call ends when the gateway, not the service, decides it (set by the response relay).</summary>
    public Status? Ending { get; set; }

    public void Stop()
    {
        _stopped = true;
        Deadline.Cancel();
    }

    /// <summary>The status for a call the gateway cut short, or null when the caller left (it hears nothing).</summary>
    public Status? CutShort() =>
        Refusal is { } refusal ? refusal
        : Stopping ? new Status(StatusCode.Unavailable, "The gateway is shutting down; call again to resume.")
        : CallerLeft.IsCancellationRequested ? null
        : Deadline.IsCancellationRequested ? new Status(StatusCode.DeadlineExceeded, "Deadline exceeded at the gateway.")
        : null;

    public Decision Decision(DateTimeOffset time, bool allowed, string reason, EnforcedGrant? grant) =>
        new(time, PartnerId, Purpose, Method, allowed, reason, grant, TraceId, Subject);
}
