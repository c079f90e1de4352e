using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Ketenmesh.Grpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Grpc.Server;

/// <summary>Serves one method: protocol checks, call context, status mapping. Subclasses add the call shape.</summary>
internal abstract class ServerMethodHandler
{
    private readonly ILogger _logger;

    protected ServerMethodHandler(MethodDescriptor method, GrpcServerOptions options, ILogger logger)
    {
        Method = method;
        Options = options;
        _logger = logger;
        Path = $"/{method.Service.FullName}/{method.Name}";
    }

    public MethodDescriptor Method { get; }

    public string Path { get; }

    protected GrpcServerOptions Options { get; }

    public async Task HandleAsync(HttpContext http)
    {
        if (!await ServerProtocolGuard.AcceptAsync(http).ConfigureAwait(false))
        {
            return;
        }
        HttpServerCallContext call;
        try
        {
            call = HttpServerCallContext.Create(http, Path, Options, Method.IsClientStreaming || Method.IsServerStreaming ? ServerStopping(http) : default);
        }
        catch (RpcException ex)
        {
            HttpServerCallContext.WriteStatus(http.Response, ex.Status, null);
            return;
        }
        var activity = TraceContext.StartServerActivity(http, Path);
        try
        {
            ServerCallContext.Current = call;
            var status = Status.DefaultSuccess;
            try
            {
                await InvokeAsync(http, call).ConfigureAwait(false);
                // A stream the server cut short did not complete, however quietly its handler returned.
                status = call.ServerStopping && call.Status.StatusCode == StatusCode.OK ? ShuttingDown : call.Status;
            }
            catch (Exception ex)
            {
                status = ToStatus(ex, call, http);
            }
            await call.EndCallAsync(status).ConfigureAwait(false);
            ServerCalls.Add(1,
                new KeyValuePair<string, object?>("rpc.method", Path),
                new KeyValuePair<string, object?>("rpc.grpc.status_code", (int)status.StatusCode));
        }
        finally
        {
            ServerCallContext.Current = null;
            await call.DisposeAsync().ConfigureAwait(false);
            activity?.Stop();
        }
    }

    protected abstract Task InvokeAsync(HttpContext http, HttpServerCallContext call);

    private static readonly System.Diagnostics.Metrics.Meter Meter = new("Ketenmesh.Grpc");

    /// <summary>Calls by method and final status, the way clients saw them end (OpenTelemetry's rpc.* attribute names).</summary>
    private static readonly System.Diagnostics.Metrics.Counter<long> ServerCalls = Meter.CreateCounter<long>(
        "ketenmesh.rpc.server.calls", "{call}", "gRPC calls served, by method and status code");

    /// <summary>UNAVAILABLE is what clients retry: the stream resumes on another instance, or on this one after its restart.</summary>
    private static readonly Status ShuttingDown = new(StatusCode.Unavailable, "The server is shutting down; call again to resume.");

    private static CancellationToken ServerStopping(HttpContext http) =>
        http.RequestServices.GetService(typeof(Microsoft.Extensions.Hosting.IHostApplicationLifetime)) is Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime
            ? lifetime.ApplicationStopping
            : default;

    /// <summary>Streams can live for hours: lift Kestrel's whole-body size and minimum data rate limits for them.</summary>
    protected static void AllowLongLivedRequestBody(HttpContext http)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }
        if (http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }
    }

    private Status ToStatus(Exception ex, HttpServerCallContext call, HttpContext http)
    {
        switch (ex)
        {
            case RpcException rpc:
                foreach (var entry in rpc.Trailers)
                {
                    call.ResponseTrailers.Add(entry);
                }
                return rpc.Status;
            case OperationCanceledException when call.ServerStopping:
                return ShuttingDown;
            case OperationCanceledException or IOException when call.DeadlineExceeded:
                return new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.");
            case OperationCanceledException or IOException when http.RequestAborted.IsCancellationRequested:
            case StreamBrokenException:
                return new Status(StatusCode.Cancelled, "The call was cancelled by the client.");
            default:
                foreach (var mapper in Options.ExceptionMappers)
                {
                    if (mapper(ex) is { } mapped)
                    {
                        foreach (var entry in mapped.Trailers)
                        {
                            call.ResponseTrailers.Add(entry);
                        }

                        // The kind only: a refusal is an answer, not a fault, and its message is the caller's to read.
                        _logger.LogInformation("gRPC method {Method} answered {StatusCode} ({Reason})", Path, mapped.StatusCode, ex.GetType().Name);
                        return mapped.Status;
                    }
                }

                _logger.LogError(ex, "Unhandled exception in gRPC method {Method}", Path);
                return new Status(StatusCode.Unknown, Options.EnableDetailedErrors
                    ? $"Exception was thrown by handler. {ex.GetType().Name}: {ex.Message}"
                    : "Exception was thrown by handler.");
        }
    }
}

/// <summary>Serves a method of <typeparamref name="TService"/>, creating the service per call like ASP.NET controllers.</summary>
internal abstract class ServerMethodHandler<TService, TRequest, TResponse> : ServerMethodHandler
    where TService : class
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private static readonly Microsoft.Extensions.DependencyInjection.ObjectFactory<TService> Factory =
        Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateFactory<TService>(Type.EmptyTypes);

    private readonly TService? _singleton;

    protected ServerMethodHandler(MethodDescriptor method, GrpcServerOptions options, ILogger logger, TService? singleton)
        : base(method, options, logger)
    {
        Parser = (MessageParser<TRequest>)method.InputType.Parser;
        _singleton = singleton;
    }

    protected MessageParser<TRequest> Parser { get; }

    protected override async Task InvokeAsync(HttpContext http, HttpServerCallContext call)
    {
        if (_singleton is not null)
        {
            await InvokeAsync(_singleton, http, call).ConfigureAwait(false);
            return;
        }
        var services = http.RequestServices;
        var registered = services.GetService(typeof(TService)) as TService;
        var service = registered ?? Factory(services, null);
        try
        {
            await InvokeAsync(service, http, call).ConfigureAwait(false);
        }
        finally
        {
            if (registered is null)
            {
                switch (service)
                {
                    case IAsyncDisposable asyncDisposable:
                        await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                        break;
                    case IDisposable disposable:
                        disposable.Dispose();
                        break;
                }
            }
        }
    }

    protected abstract Task InvokeAsync(TService service, HttpContext http, HttpServerCallContext call);
}
