using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>The outcome of one raw call: status, the messages' bytes, headers and trailers.</summary>
enum RequestEncoding
{
    Plain,
    Gzip,
    FlaggedButNotGzip,
}

sealed record RawCallResult(int Status, string Message, IReadOnlyList<byte[]> Messages, HttpResponseHeaders Headers, HttpResponseHeaders Trailers);

/// <summary>
/// A gRPC client made from nothing but HttpClient, independent of our own client: it sends framed
/// bytes and reads frames, status and metadata back, for any method without its C# types.
/// </summary>
sealed class RawGrpc(Uri address, SocketsHttpHandler? handler = null) : IDisposable
{
    // A partner's system runs outside the mesh's process: it sends the trace headers the test gives it,
    // not ones this process's telemetry would add for the hosts it runs beside.
    private readonly HttpMessageInvoker _http = new(handler ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true, ActivityHeadersPropagator = null });

    /// <summary>Over TLS (h2 by ALPN) to a self-signed server, presenting <paramref name="certificate"/> when given.</summary>
    public static RawGrpc Tls(Uri address, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        if (certificate is not null)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }
        return new RawGrpc(address, handler);
    }

    /// <param name="encoding">
    /// How request messages are sent: plain; gzip (flagged compressed, <c>grpc-encoding: gzip</c>); or
    /// flagged compressed but not gzip at all, as a broken or hostile client might.
    /// </param>
    public async Task<RawCallResult> CallAsync(string method, IEnumerable<byte[]> requests, IDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default,
        RequestEncoding encoding = RequestEncoding.Plain)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address, "/" + method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(requests.SelectMany(m => Frame(m, encoding)).ToArray()),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        if (encoding != RequestEncoding.Plain)
        {
            request.Headers.TryAddWithoutValidation("grpc-encoding", "gzip");
        }
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(key, value);
        }
        using var response = await _http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var messages = new List<byte[]>();
        for (var offset = 0; offset < body.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(offset + 1));
            messages.Add(body.AsSpan(offset + 5, length).ToArray());
            offset += 5 + length;
        }
        var statusSource = response.Headers.Contains("grpc-status") ? response.Headers : response.TrailingHeaders;
        var status = statusSource.TryGetValues("grpc-status", out var codes) ? int.Parse(codes.First()) : -1;
        var text = statusSource.TryGetValues("grpc-message", out var texts) ? Uri.UnescapeDataString(texts.First()) : "";
        return new RawCallResult(status, text, messages, response.Headers, response.TrailingHeaders);
    }

    private static byte[] Frame(byte[] message, RequestEncoding encoding)
    {
        if (encoding == RequestEncoding.Gzip)
        {
            using var compressed = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest))
            {
                gzip.Write(message);
            }
            message = compressed.ToArray();
        }
        var frame = new byte[5 + message.Length];
        frame[0] = encoding == RequestEncoding.Plain ? (byte)0 : (byte)1;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    public void Dispose() => _http.Dispose();
}
