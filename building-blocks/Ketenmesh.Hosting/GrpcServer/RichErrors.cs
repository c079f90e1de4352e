using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// The rich error model (Grpc.StatusProto): a google.rpc.Status in the <c>grpc-status-details-bin</c>
/// trailer, so a partner's client can show exactly which field was wrong and why, in any language.
/// </summary>
public static class RichErrors
{
    /// <summary>INVALID_ARGUMENT with one BadRequest field violation per problem.</summary>
    public static RpcException InvalidArgument(string message, IEnumerable<(string Field, string Description)> violations)
    {
        var badRequest = new BadRequest();
        foreach (var (field, description) in violations)
        {
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = description });
        }
        return new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = message,
            Details = { Any.Pack(badRequest) },
        }.ToRpcException();
    }
}
