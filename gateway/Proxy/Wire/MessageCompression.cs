using Grpc.Core;
using System.Buffers;
using System.IO.Compression;

namespace Ketenmesh.Gateway.Proxy.Wire;

/// <summary>The message encodings this layer speaks: <c>identity</c> and <c>gzip</c>.</summary>
internal static class MessageCompression
{
    public const string Identity = "identity";
    public const string Gzip = "gzip";

    /// <summary>What we announce in <c>grpc-accept-encoding</c>.</summary>
    public const string AcceptedEncodings = "identity,gzip";

    public static bool IsSupported(string encoding) =>
        encoding.Equals(Identity, StringComparison.OrdinalIgnoreCase) || encoding.Equals(Gzip, StringComparison.OrdinalIgnoreCase);

    public static bool AcceptsGzip(string? acceptEncoding)
    {
        if (string.IsNullOrEmpty(acceptEncoding))
        {
            return false;
        }
        foreach (var part in acceptEncoding.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Equals(Gzip, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    public static byte[] Compress(ReadOnlySpan<byte> payload)
    {
        using var output = new MemoryStream(payload.Length / 2 + 64);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(payload);
        }
        return output.ToArray();
    }

    /// <summary>Decompresses, refusing to inflate beyond <paramref name="maxLength"/> (a zip bomb is a RESOURCE_EXHAUSTED, not an outage).</summary>
    public static byte[] Decompress(in ReadOnlySequence<byte> payload, int maxLength)
    {
        using var input = new MemoryStream(payload.ToArray());
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = ReadOrThrow(gzip, buffer)) > 0)
            {
                if (output.Length + read > maxLength)
                {
                    throw new RpcException(new Status(StatusCode.ResourceExhausted,
                        $"Received message exceeds the maximum configured message size ({maxLength} bytes) after gzip decompression."));
                }
                output.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return output.ToArray();
    }

    private static int ReadOrThrow(Stream stream, byte[] buffer)
    {
        try
        {
            return stream.Read(buffer, 0, buffer.Length);
        }
        catch (InvalidDataException)
        {
            throw new RpcException(new Status(StatusCode.Internal, "A message flagged as gzip-compressed is not valid gzip data."));
        }
    }
}
