using System.Globalization;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Ketenmesh.Gateway.Proxy.Wire;

/// <summary>Ends a relayed call with a status the gateway decided: as trailers, or trailers-only before any message.</summary>
internal static class GrpcStatusWriter
{
    public static void Write(HttpResponse response, Status status, bool trailersOnly = true)
    {
        var code = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        if (trailersOnly)
        {
            response.Headers.ContentType = GrpcHeaders.ContentType;
            response.Headers[GrpcHeaders.Status] = code;
            if (!string.IsNullOrEmpty(status.Detail))
            {
                response.Headers[GrpcHeaders.Message] = StatusMessageEncoding.Encode(status.Detail);
            }
            return;
        }
        response.AppendTrailer(GrpcHeaders.Status, code);
        if (!string.IsNullOrEmpty(status.Detail))
        {
            response.AppendTrailer(GrpcHeaders.Message, StatusMessageEncoding.Encode(status.Detail));
        }
    }
}
