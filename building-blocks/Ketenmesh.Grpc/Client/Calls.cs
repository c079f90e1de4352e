using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Ketenmesh.Grpc.Client;

/// <summary>What every call in flight offers: response headers, and status and trailers once it ends.</summary>
public abstract class AsyncCall : IDisposable
{
    private readonly IDisposable _call;
    private readonly Func<Status> _status;
    private readonly Func<Metadata> _trailers;

    private protected AsyncCall(Task<Metadata> headers, Func<Status> status, Func<Metadata> trailers, IDisposable call)
    {
        ResponseHeadersAsync = headers;
        _status = status;
        _trailers = trailers;
        _call = call;
    }

    public Task<Metadata> ResponseHeadersAsync { get; }

    public Status GetStatus() => _status();

    public Metadata GetTrailers() => _trailers();

    /// <summary>Cancels the call if it is still running (the server sees RST_STREAM).</summary>
    public void Dispose() => _call.Dispose();
}

/// <summary>A unary call in flight; await it for the response.</summary>
public sealed class AsyncUnaryCall<TResponse> : AsyncCall
{
    internal AsyncUnaryCall(Task<TResponse> response, Task<Metadata> headers, Func<Status> status, Func<Metadata> trailers, IDisposable call)
        : base(headers, status, trailers, call) => ResponseAsync = response;

    public Task<TResponse> ResponseAsync { get; }

    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();
}

/// <summary>A call whose responses arrive as a stream.</summary>
public sealed class AsyncServerStreamingCall<TResponse> : AsyncCall
{
    internal AsyncServerStreamingCall(IAsyncStreamReader<TResponse> responses, Task<Metadata> headers, Func<Status> status, Func<Metadata> trailers, IDisposable call)
        : base(headers, status, trailers, call) => ResponseStream = responses;

    public IAsyncStreamReader<TResponse> ResponseStream { get; }
}

/// <summary>A call whose requests go out as a stream and whose one response ends it.</summary>
public sealed class AsyncClientStreamingCall<TRequest, TResponse> : AsyncCall
{
    internal AsyncClientStreamingCall(IClientStreamWriter<TRequest> requests, Task<TResponse> response, Task<Metadata> headers, Func<Status> status, Func<Metadata> trailers, IDisposable call)
        : base(headers, status, trailers, call)
    {
        RequestStream = requests;
        ResponseAsync = response;
    }

    public IClientStreamWriter<TRequest> RequestStream { get; }

    public Task<TResponse> ResponseAsync { get; }

    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();
}

/// <summary>A call with a stream each way, read and written independently.</summary>
public sealed class AsyncDuplexStreamingCall<TRequest, TResponse> : AsyncCall
{
    internal AsyncDuplexStreamingCall(IClientStreamWriter<TRequest> requests, IAsyncStreamReader<TResponse> responses, Task<Metadata> headers, Func<Status> status, Func<Metadata> trailers, IDisposable call)
        : base(headers, status, trailers, call)
    {
        RequestStream = requests;
        ResponseStream = responses;
    }

    public IClientStreamWriter<TRequest> RequestStream { get; }

    public IAsyncStreamReader<TResponse> ResponseStream { get; }
}

/// <summary>Reads a response stream once the call's headers are in.</summary>
internal sealed class ResponseStreamReader<TRequest, TResponse>(ClientCall<TRequest, TResponse> call, Task started) : IAsyncStreamReader<TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private TResponse? _current;

    public TResponse Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        await started.ConfigureAwait(false);
        _current = await call.ReadNextAsync(cancellationToken).ConfigureAwait(false);
        return _current is not null;
    }
}

/// <summary>Writes a request stream; <see cref="CompleteAsync"/> half-closes it.</summary>
internal sealed class RequestStreamWriter<TRequest>(RequestStreamContent content, CancellationToken callToken) : IClientStreamWriter<TRequest>
    where TRequest : class, IMessage<TRequest>
{
    public Task WriteAsync(TRequest message) => content.WriteAsync(message, callToken);

    public Task WriteAsync(TRequest message, CancellationToken cancellationToken) => content.WriteAsync(message, cancellationToken);

    public Task CompleteAsync()
    {
        content.Complete();
        return Task.CompletedTask;
    }
}
