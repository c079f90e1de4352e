using Grpc.Core;
using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;

namespace Ketenmesh.Gateway.Proxy.Wire;

/// <summary>
/// gRPC's length-prefixed message: one byte compressed flag, four bytes big-endian length, the payload.
/// </summary>
internal static class MessageFraming
{
    public const int HeaderSize = 5;

    /// <summary>Takes one whole frame off the front of <paramref name="buffer"/>, if it is all there.</summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxLength, out bool compressed, out ReadOnlySequence<byte> payload)
    {
        compressed = false;
        payload = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        compressed = header[0] switch
        {
            0 => false,
            1 => true,
            _ => throw new RpcException(new Status(StatusCode.Internal,
                $"Malformed gRPC frame: the compressed flag is {header[0]}, it must be 0 or 1.")),
        };
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxLength)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"Received message of {length} bytes exceeds the maximum message size of {maxLength} bytes."));
        }
        if (buffer.Length < HeaderSize + length)
        {
            return false;
        }
        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(HeaderSize + length);
        return true;
    }

    public static void WriteHeader(Span<byte> target, bool compressed, int length)
    {
        target[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(target[1..], (uint)length);
    }
}
