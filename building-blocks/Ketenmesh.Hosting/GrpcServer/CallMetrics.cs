using System.Diagnostics.Metrics;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// Calls by method and final status, read off the <c>grpc-status</c> the caller got (OpenTelemetry's rpc.*
/// attribute names). As middleware it also counts calls refused before any handler ran (a bad message,
/// an unknown method). Paths that are no mapped method count as <c>unknown</c>, so a caller cannot
/// grow the metric's cardinality.
/// </summary>
internal static class CallMetrics
{
    private static readonly Meter Meter = new("Ketenmesh.Grpc");

    private static readonly Counter<long> ServerCalls = Meter.CreateCounter<long>(
        "ketenmesh.rpc.server.calls", "{call}", "gRPC calls served, by method and status code");

    public static async Task CountAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) ?? true)
        {
            await next(context);
            return;
        }
        try
        {
            await next(context);
        }
        finally
        {
            var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName ?? "unknown";
            ServerCalls.Add(1,
                new KeyValuePair<string, object?>("rpc.method", method),
                new KeyValuePair<string, object?>("rpc.grpc.status_code", StatusOf(context)));
        }
    }

    private static int StatusOf(HttpContext context)
    {
        var status = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].ToString();
        if (string.IsNullOrEmpty(status))
        {
            status = context.Response.Headers["grpc-status"].ToString();
        }
        // A stream reset before any status is the caller's cancellation as the server saw it.
        return int.TryParse(status, out var code) ? code : context.RequestAborted.IsCancellationRequested ? 1 : 2;
    }
}
