using System.Diagnostics;
using Ketenmesh.Grpc.Protocol;
using Microsoft.AspNetCore.Http;

namespace Ketenmesh.Grpc.Server;

/// <summary>W3C trace context: continue the caller's trace so our outgoing calls carry it on.</summary>
internal static class TraceContext
{
    /// <summary>
    /// Continues the caller's trace when it sent one (and the host did not already). Without a
    /// traceparent there is nothing to carry on, and an outgoing call starts its own trace.
    /// </summary>
    public static Activity? StartServerActivity(HttpContext http, string method)
    {
        if (Activity.Current is not null)
        {
            return null;
        }
        var headers = http.Request.Headers;
        string? traceParent = headers[GrpcHeaders.TraceParent];
        if (traceParent is null || !ActivityContext.TryParse(traceParent, headers[GrpcHeaders.TraceState], out var parent))
        {
            return null;
        }
        var activity = new Activity(method);
        activity.SetIdFormat(ActivityIdFormat.W3C);
        activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
        activity.TraceStateString = parent.TraceState;
        return activity.Start();
    }
}
