using Microsoft.AspNetCore.Http;

namespace Ketenmesh.Grpc.Server;

/// <summary>Answers a gRPC call to a service or method this host does not have with UNIMPLEMENTED.</summary>
internal sealed class UnimplementedHandler(GrpcServiceRegistry registry)
{
    public async Task HandleAsync(HttpContext http)
    {
        if (!await ServerProtocolGuard.AcceptAsync(http).ConfigureAwait(false))
        {
            return;
        }
        var path = http.Request.Path.Value ?? string.Empty;
        var parts = path.Trim('/').Split('/', 2);
        var serviceName = parts[0];
        var methodName = parts.Length > 1 ? parts[1] : string.Empty;
        var detail = registry.Find(serviceName) is null
            ? $"Service '{serviceName}' is not served here."
            : $"Method '{methodName}' is not part of service '{serviceName}'.";
        HttpServerCallContext.WriteStatus(http.Response, new Status(StatusCode.Unimplemented, detail), null);
    }
}
