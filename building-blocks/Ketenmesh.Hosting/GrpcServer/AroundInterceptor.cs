using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// An interceptor that wraps every call shape the same way: it sees the call's single request (when it
/// has one) and runs code around the handler. Our cross-cutting steps are written once against this.
/// </summary>
public abstract class AroundInterceptor : Interceptor
{
    /// <param name="request">The request message of a unary or server-streaming call; null for client-streaming and duplex calls.</param>
    protected abstract Task<T> AroundAsync<T>(object? request, ServerCallContext context, Func<Task<T>> handler);

    public sealed override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        AroundAsync(request, context, () => continuation(request, context));

    public sealed override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        AroundAsync(null, context, () => continuation(requestStream, context));

    public sealed override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        AroundAsync(request, context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });

    public sealed override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        AroundAsync(null, context, async () =>
        {
            await continuation(requestStream, responseStream, context);
            return true;
        });
}
