using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;

namespace Ketenmesh.Grpc;

/// <summary>
/// The rich error model: a google.rpc.Status in the <c>grpc-status-details-bin</c> trailer, so a partner's
/// client can show exactly which field was wrong and why, in any language's gRPC library.
/// </summary>
public static class RichErrors
{
    public const string DetailsTrailer = "grpc-status-details-bin";

    public static RpcException ToRpcException(this Google.Rpc.Status status)
    {
        var trailers = new Metadata { new Metadata.Entry(DetailsTrailer, status.ToByteArray()) };
        return new RpcException(new Status((StatusCode)status.Code, status.Message), trailers);
    }

    /// <summary>The rich status a peer sent, or null when it sent only code and message.</summary>
    public static Google.Rpc.Status? GetRpcStatus(this RpcException exception)
    {
        var bytes = exception.Trailers.GetValueBytes(DetailsTrailer);
        return bytes is null ? null : Google.Rpc.Status.Parser.ParseFrom(bytes);
    }

    public static T? GetDetail<T>(this Google.Rpc.Status status)
        where T : class, IMessage<T>, new()
    {
        var descriptor = new T().Descriptor;
        foreach (var any in status.Details)
        {
            if (any.Is(descriptor))
            {
                return any.Unpack<T>();
            }
        }
        return null;
    }

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
            Code = (int)StatusCode.InvalidArgument,
            Message = message,
            Details = { Any.Pack(badRequest) },
        }.ToRpcException();
    }
}
