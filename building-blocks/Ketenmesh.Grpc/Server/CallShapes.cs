using Google.Protobuf;
using Google.Protobuf.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Grpc.Server;

internal delegate Task<TResponse> UnaryMethod<TService, TRequest, TResponse>(TService service, TRequest request, ServerCallContext context);

internal delegate Task ServerStreamingMethod<TService, TRequest, TResponse>(TService service, TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context);

internal delegate Task<TResponse> ClientStreamingMethod<TService, TRequest, TResponse>(TService service, IAsyncStreamReader<TRequest> requestStream, ServerCallContext context);

internal delegate Task DuplexStreamingMethod<TService, TRequest, TResponse>(TService service, IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context);

internal sealed class UnaryHandler<TService, TRequest, TResponse>(
    MethodDescriptor method, GrpcServerOptions options, ILogger logger, UnaryMethod<TService, TRequest, TResponse> invoker, object? singleton)
    : ServerMethodHandler<TService, TRequest, TResponse>(method, options, logger, (TService?)singleton)
    where TService : class
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    protected override async Task InvokeAsync(TService service, HttpContext http, HttpServerCallContext call)
    {
        var request = await call.CreateRequestReader(Parser).ReadSingleAsync("request").ConfigureAwait(false);
        var response = await invoker(service, request, call).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.Internal, "The service returned no response message."));
        await call.WriteMessageAsync(response, flush: false).ConfigureAwait(false);
    }
}

internal sealed class ServerStreamingHandler<TService, TRequest, TResponse>(
    MethodDescriptor method, GrpcServerOptions options, ILogger logger, ServerStreamingMethod<TService, TRequest, TResponse> invoker, object? singleton)
    : ServerMethodHandler<TService, TRequest, TResponse>(method, options, logger, (TService?)singleton)
    where TService : class
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    protected override async Task InvokeAsync(TService service, HttpContext http, HttpServerCallContext call)
    {
        var request = await call.CreateRequestReader(Parser).ReadSingleAsync("request").ConfigureAwait(false);
        await invoker(service, request, new ResponseStreamWriter<TResponse>(call), call).ConfigureAwait(false);
    }
}

internal sealed class ClientStreamingHandler<TService, TRequest, TResponse>(
    MethodDescriptor method, GrpcServerOptions options, ILogger logger, ClientStreamingMethod<TService, TRequest, TResponse> invoker, object? singleton)
    : ServerMethodHandler<TService, TRequest, TResponse>(method, options, logger, (TService?)singleton)
    where TService : class
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    protected override async Task InvokeAsync(TService service, HttpContext http, HttpServerCallContext call)
    {
        AllowLongLivedRequestBody(http);
        var response = await invoker(service, call.CreateRequestReader(Parser), call).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.Internal, "The service returned no response message."));
        await call.WriteMessageAsync(response, flush: false).ConfigureAwait(false);
    }
}

internal sealed class DuplexStreamingHandler<TService, TRequest, TResponse>(
    MethodDescriptor method, GrpcServerOptions options, ILogger logger, DuplexStreamingMethod<TService, TRequest, TResponse> invoker, object? singleton)
    : ServerMethodHandler<TService, TRequest, TResponse>(method, options, logger, (TService?)singleton)
    where TService : class
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    protected override Task InvokeAsync(TService service, HttpContext http, HttpServerCallContext call)
    {
        AllowLongLivedRequestBody(http);
        return invoker(service, call.CreateRequestReader(Parser), new ResponseStreamWriter<TResponse>(call), call);
    }
}

/// <summary>The response stream handed to service code.</summary>
internal sealed class ResponseStreamWriter<T>(HttpServerCallContext call) : IServerStreamWriter<T>
    where T : class, IMessage<T>
{
    public Task WriteAsync(T message) => call.WriteMessageAsync(message, flush: true);
}
