using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Ketenmesh.Gateway.Proxy;

/// <summary>
/// A request message as the service will read it: parsed with the method's own generated type
/// (protobuf's rules: the last occurrence of a field wins, embedded messages merge, a field sent with
/// another wire type than its own is not that field), and re-encoded. The gateway decides on the
/// parsed message and forwards its encoding, so what it audited and checked is what the service acts on,
/// however the partner spelled it.
/// </summary>
internal static class CanonicalRequest
{
    // Fields the gateway's contracts do not know are dropped, not forwarded: nothing reaches a service
    // that the gateway did not decide on (a newer service might act on a field the gateway cannot check),
    // and a partner built against a newer contract still gets its call through, minus what this
    // gateway cannot vouch for. Refusing instead would break such partners on every contract addition.
    private static readonly ConcurrentDictionary<MessageDescriptor, MessageParser> Discarding = new();

    /// <summary>The message, or INVALID_ARGUMENT when the bytes are no message of <paramref name="type"/>.</summary>
    public static IMessage Parse(MessageDescriptor type, byte[] plain)
    {
        try
        {
            // The type's own parser, as the service's gRPC layer uses it, decides whether the bytes are a message.
            // A parser that discards unknown fields is laxer (it skips a tag of wire type 6 or 7 that this one
            // refuses), so it only reads the bytes once they passed; both merge fields alike.
            type.Parser.ParseFrom(plain);
        }
        catch (InvalidProtocolBufferException)
        {
            // Why it does not parse stays out of the answer and the record: the bytes are the partner's payload.
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The request message is not a valid {type.FullName}."));
        }
        return Discarding.GetOrAdd(type, t => t.Parser.WithDiscardUnknownFields(true)).ParseFrom(plain);
    }

    /// <summary>The message as one uncompressed gRPC frame, refused as the service would refuse it when it outgrows the limit.</summary>
    public static byte[] Frame(IMessage message, int maxLength)
    {
        var size = message.CalculateSize();
        if (size > maxLength)
        {
            // Possible: a map entry sent without key and value is written with both.
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"The request message, re-encoded, is {size} bytes; the maximum message size is {maxLength} bytes."));
        }
        return FrameReader.Encode(message.ToByteArray());
    }
}
