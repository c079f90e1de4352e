using System.Diagnostics;
using Ketenmesh.Grpc.Protocol;
using Microsoft.AspNetCore.Http;

namespace Ketenmesh.Grpc.Server;

/// <summary>W3C trace context: continue the caller's trace so our outgoing calls carry it on.</summary>
internal static class TraceContext
{
    /// <summary>Starts a server activity unless the host already made one from the same headers.</summary>
    public static Activity? StartServerActivity(HttpContext http, string method)
    {
        if (Activity.Current is not null)
        {
            return null;
        }
        var activity = new Activity(method);
        activity.SetIdFormat(ActivityIdFormat.W3C);
        var headers = http.Request.Headers;
        string? traceParent = headers[GrpcHeaders.TraceParent];
        if (traceParent is not null && ActivityContext.TryParse(traceParent, headers[GrpcHeaders.TraceState], out var parent))
        {
            activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
            activity.TraceStateString = parent.TraceState;
        }
        return activity.Start();
    }
}
