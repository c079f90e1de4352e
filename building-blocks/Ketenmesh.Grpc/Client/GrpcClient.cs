using Google.Protobuf;

namespace Ketenmesh.Grpc.Client;

/// <summary>
/// Calls methods on a channel. Services call each other through this; the mesh's calls carry the
/// caller's deadline, cancellation and W3C trace context on automatically.
/// </summary>
public sealed class GrpcClient(GrpcChannel channel)
{
    public AsyncUnaryCall<TResponse> UnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(channel, method, options);
        return new AsyncUnaryCall<TResponse>(RunUnaryAsync(call, request), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call);
    }

    public AsyncServerStreamingCall<TResponse> ServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(channel, method, options);
        var started = StartAsync(call, call.CreateUnaryContent(request));
        return new AsyncServerStreamingCall<TResponse>(
            new ResponseStreamReader<TRequest, TResponse>(call, started), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call);
    }

    public AsyncClientStreamingCall<TRequest, TResponse> ClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(channel, method, options);
        var content = call.CreateStreamingContent();
        var started = StartAsync(call, content);
        return new AsyncClientStreamingCall<TRequest, TResponse>(
            new RequestStreamWriter<TRequest>(content, options.CancellationToken), ReadSingleAsync(call, started),
            call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call);
    }

    public AsyncDuplexStreamingCall<TRequest, TResponse> DuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(channel, method, options);
        var content = call.CreateStreamingContent();
        var started = StartAsync(call, content);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(
            new RequestStreamWriter<TRequest>(content, options.CancellationToken), new ResponseStreamReader<TRequest, TResponse>(call, started),
            call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call);
    }

    private static async Task<TResponse> RunUnaryAsync<TRequest, TResponse>(ClientCall<TRequest, TResponse> call, TRequest request)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        await call.StartAsync(call.CreateUnaryContent(request)).ConfigureAwait(false);
        return await call.ReadSingleAsync().ConfigureAwait(false);
    }

    private static async Task<TResponse> ReadSingleAsync<TRequest, TResponse>(ClientCall<TRequest, TResponse> call, Task started)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        await started.ConfigureAwait(false);
        return await call.ReadSingleAsync().ConfigureAwait(false);
    }

    /// <summary>Streaming calls start sending at once; the caller writes while the response headers are awaited.</summary>
    private static Task StartAsync<TRequest, TResponse>(ClientCall<TRequest, TResponse> call, HttpContent content)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var started = call.StartAsync(content);
        // Observed by whoever reads the response; this keeps an unread failure from going unobserved.
        started.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return started;
    }
}
