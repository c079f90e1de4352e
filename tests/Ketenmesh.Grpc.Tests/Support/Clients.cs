using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using InteropClient = Ketenmesh.Testing.V1.InteropTestService.InteropTestServiceClient;

namespace Ketenmesh.Grpc.Tests.Support;

/// <summary>
/// How the tests call: Grpc.Net.Client with the generated typed clients, and never without a deadline, so a
/// server that fails to answer fails the test instead of hanging the run.
/// </summary>
public static class Clients
{
    /// <summary>The deadline of every call that sets none itself; far beyond what any call here needs.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(30);

    /// <summary>The channel's calls, each given <see cref="DefaultDeadline"/> unless it has a deadline of its own.</summary>
    public static CallInvoker Bounded(this GrpcChannel channel) => channel.Intercept(new DeadlineInterceptor(DefaultDeadline));

    public static InteropClient Interop(this GrpcChannel channel) => new(channel.Bounded());

    /// <summary>Call options with a deadline <paramref name="within"/> from now.</summary>
    public static CallOptions Within(TimeSpan within, Metadata? headers = null, CancellationToken cancellationToken = default) =>
        new(headers, DateTime.UtcNow + within, cancellationToken);

    private sealed class DeadlineInterceptor(TimeSpan timeout) : Interceptor
    {
        public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation) =>
            continuation(request, Bounded(context));

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
            continuation(request, Bounded(context));

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
            continuation(request, Bounded(context));

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) =>
            continuation(Bounded(context));

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
            continuation(Bounded(context));

        private ClientInterceptorContext<TRequest, TResponse> Bounded<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
            where TRequest : class
            where TResponse : class =>
            context.Options.Deadline is null
                ? new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithDeadline(DateTime.UtcNow + timeout))
                : context;
    }
}
