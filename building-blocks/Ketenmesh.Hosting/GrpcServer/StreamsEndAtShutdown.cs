using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Hosting;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// A watch may stay open for hours, and Kestrel waits for open requests before it stops: a process with
/// one open stream would hang for the whole shutdown timeout. So a server-streaming or duplex call's
/// cancellation token also fires when the host begins to stop, and the caller is told UNAVAILABLE, the
/// one status it can act on: call again (another replica, or this one once back) and resume. Unary
/// calls are short and are let finish.
/// </summary>
internal sealed class StreamsEndAtShutdown(IHostApplicationLifetime lifetime) : Interceptor
{
    private const string HttpContextKey = "__HttpContext";

    private static readonly string HealthWatch = "/" + global::Grpc.Health.V1.Health.Descriptor.FullName + "/";

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        UntilStoppingAsync(context, stoppable => continuation(request, responseStream, stoppable));

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        UntilStoppingAsync(context, stoppable => continuation(requestStream, responseStream, stoppable));

    private async Task UntilStoppingAsync(ServerCallContext context, Func<ServerCallContext, Task> handler)
    {
        if (context.Method.StartsWith(HealthWatch, StringComparison.Ordinal))
        {
            // Grpc.AspNetCore.HealthChecks ends its own watches at shutdown, after telling them NOT_SERVING.
            await handler(context);
            return;
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        // grpc-dotnet finds the HttpContext of a wrapped call context under this key of its user state.
        context.UserState[HttpContextKey] = context.GetHttpContext();
        try
        {
            await handler(new StoppableCallContext(context, linked.Token));
        }
        catch (Exception e) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested
            && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The service is shutting down; call again to resume."));
        }
    }

    /// <summary>The call as it is, with a cancellation token that also fires at shutdown.</summary>
    private sealed class StoppableCallContext(ServerCallContext inner, CancellationToken cancellation) : ServerCallContext
    {
        protected override string MethodCore => inner.Method;
        protected override string HostCore => inner.Host;
        protected override string PeerCore => inner.Peer;
        protected override DateTime DeadlineCore => inner.Deadline;
        protected override Metadata RequestHeadersCore => inner.RequestHeaders;
        protected override CancellationToken CancellationTokenCore => cancellation;
        protected override Metadata ResponseTrailersCore => inner.ResponseTrailers;
        protected override Status StatusCore { get => inner.Status; set => inner.Status = value; }
        protected override WriteOptions? WriteOptionsCore { get => inner.WriteOptions; set => inner.WriteOptions = value; }
        protected override AuthContext AuthContextCore => inner.AuthContext;
        protected override IDictionary<object, object> UserStateCore => inner.UserState;

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => inner.CreatePropagationToken(options);

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => inner.WriteResponseHeadersAsync(responseHeaders);
    }
}
