using Ketenmesh.Domain;
using Grpc.Core;
using Ketenmesh.Hosting.GrpcServer;

namespace Ketenmesh.Hosting;

/// <summary>The one place a domain refusal becomes a gRPC status (and, for a bad request, its field violations).</summary>
public static class DomainRefusals
{
    public static RpcException? ToRpcException(Exception exception) => exception switch
    {
        InvalidRequest invalid => RichErrors.InvalidArgument(invalid.Message, invalid.Problems.Select(p => (p.Field, p.Description))),
        NotFound => Refused(StatusCode.NotFound, exception),
        AlreadyExists => Refused(StatusCode.AlreadyExists, exception),
        NotNow => Refused(StatusCode.FailedPrecondition, exception),
        NotAllowed => Refused(StatusCode.PermissionDenied, exception),
        Outdated => Refused(StatusCode.Aborted, exception),
        _ => null,
    };

    private static RpcException Refused(StatusCode code, Exception refusal) => new(new Status(code, refusal.Message));
}
