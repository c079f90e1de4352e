using System.Buffers;
using Google.Protobuf;

namespace Ketenmesh.Grpc.Protocol;

/// <summary>Turns a frame's payload into a message: decompress if flagged, then parse.</summary>
internal static class MessageDecoder
{
    /// <param name="encoding">The stream's <c>grpc-encoding</c>, or null when absent.</param>
    /// <param name="invalidPayloadCode">INVALID_ARGUMENT on a server (the caller sent it), INTERNAL on a client.</param>
    public static T Decode<T>(MessageParser<T> parser, in ReadOnlySequence<byte> payload, bool compressed, string? encoding, int maxLength, StatusCode invalidPayloadCode)
        where T : IMessage<T>
    {
        if (compressed)
        {
            if (encoding is null || encoding.Equals(MessageCompression.Identity, StringComparison.OrdinalIgnoreCase))
            {
                throw new RpcException(new Status(StatusCode.Internal,
                    "A message is flagged as compressed but the stream's grpc-encoding is identity or absent."));
            }
            var inflated = MessageCompression.Decompress(payload, maxLength);
            return Parse(parser, new ReadOnlySequence<byte>(inflated), invalidPayloadCode);
        }
        return Parse(parser, payload, invalidPayloadCode);
    }

    private static T Parse<T>(MessageParser<T> parser, in ReadOnlySequence<byte> bytes, StatusCode invalidPayloadCode)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            var typeName = parser.ParseFrom(ReadOnlySequence<byte>.Empty).Descriptor.FullName;
            throw new RpcException(new Status(invalidPayloadCode,
                $"The message is not a valid protobuf-encoded {typeName}: {ex.Message}"));
        }
    }
}
