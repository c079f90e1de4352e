namespace Ketenmesh.Grpc;

/// <summary>What a service method may know about the call it serves; deliberately nothing about HTTP.</summary>
public abstract class ServerCallContext
{
    private static readonly AsyncLocal<ServerCallContext?> CurrentContext = new();

    /// <summary>The call being served on this async flow; used by the client to propagate deadline and cancellation.</summary>
    public static ServerCallContext? Current
    {
        get => CurrentContext.Value;
        internal set => CurrentContext.Value = value;
    }

    /// <summary>Full method name, e.g. <c>/chain.signals.v1.SignalIntake/SubmitSignal</c>.</summary>
    public abstract string Method { get; }

    public abstract string Peer { get; }

    /// <summary>When the caller stops waiting (<see cref="DateTime.MaxValue"/> if it set no deadline).</summary>
    public abstract DateTime Deadline { get; }

    public abstract Metadata RequestHeaders { get; }

    public abstract Metadata ResponseTrailers { get; }

    /// <summary>Cancelled when the caller cancels, the deadline passes, or the connection drops.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>The status to send when the method returns normally (OK unless set).</summary>
    public abstract Status Status { get; set; }

    /// <summary>Per-call state for interceptors and the service (e.g. the authenticated partner).</summary>
    public abstract IDictionary<object, object> UserState { get; }

    public abstract Task WriteResponseHeadersAsync(Metadata responseHeaders);
}
