using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Ketenmesh.Gateway.Proxy.Wire;

/// <summary>Refuses what is not gRPC over HTTP/2 with an answer the caller's developer can read.</summary>
internal static class ProtocolGuard
{
    public static ValueTask<bool> AcceptAsync(HttpContext http)
    {
        var request = http.Request;
        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            // HTTP/1.x cannot carry trailers, so gRPC is impossible on it: 426 tells the client to use HTTP/2.
            http.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            http.Response.Headers.Connection = "Upgrade";
            http.Response.Headers.Upgrade = "h2";
            http.Response.ContentType = "text/plain";
            return RefuseAsync(http, $"gRPC requires HTTP/2; the request used {request.Protocol}.\n");
        }
        if (!HttpMethods.IsPost(request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            GrpcStatusWriter.Write(http.Response, new Status(StatusCode.Internal, $"gRPC requires POST; the request used {request.Method}."));
            return ValueTask.FromResult(false);
        }
        if (!GrpcHeaders.IsGrpcContentType(request.ContentType))
        {
            // The protocol asks for 415 here; the grpc-status lets gRPC clients show a proper error too.
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            GrpcStatusWriter.Write(http.Response, new Status(StatusCode.Internal,
                $"Content-Type '{request.ContentType}' is not supported; gRPC requires 'application/grpc' or 'application/grpc+proto'."));
            return ValueTask.FromResult(false);
        }
        return ValueTask.FromResult(true);
    }

    private static async ValueTask<bool> RefuseAsync(HttpContext http, string message)
    {
        await http.Response.WriteAsync(message).ConfigureAwait(false);
        return false;
    }
}
