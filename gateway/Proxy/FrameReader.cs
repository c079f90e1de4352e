using System.Buffers;
using System.IO.Pipelines;
using Grpc.Core;
using Ketenmesh.Gateway.Proxy.Wire;

namespace Ketenmesh.Gateway.Proxy;

/// <summary>One gRPC frame as relayed: whether it was compressed and its payload bytes (copied, so the pipe can move on).</summary>
internal readonly record struct Frame(bool Compressed, byte[] Payload);

/// <summary>Reads whole gRPC frames off a pipe, one at a time, never a whole stream.</summary>
internal static class FrameReader
{
    public static async ValueTask<Frame?> ReadAsync(PipeReader reader, int maxLength, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (MessageFraming.TryReadFrame(ref buffer, maxLength, out var compressed, out var payload))
            {
                var frame = new Frame(compressed, payload.ToArray());
                reader.AdvanceTo(buffer.Start);
                return frame;
            }
            if (result.IsCompleted)
            {
                var left = buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (left == 0)
                {
                    return null;
                }
                throw new RpcException(new Status(StatusCode.Internal, $"The stream ended inside a message: {left} bytes of an incomplete gRPC frame."));
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The message bytes to inspect: decompressed when the frame was compressed.</summary>
    public static byte[] Plain(Frame frame, int maxLength) =>
        frame.Compressed ? MessageCompression.Decompress(new ReadOnlySequence<byte>(frame.Payload), maxLength) : frame.Payload;

    /// <summary>One uncompressed frame: whatever the gateway sends on, it sends as it read it, inflated.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[MessageFraming.HeaderSize + payload.Length];
        MessageFraming.WriteHeader(bytes, compressed: false, payload.Length);
        payload.CopyTo(bytes.AsSpan(MessageFraming.HeaderSize));
        return bytes;
    }
}
