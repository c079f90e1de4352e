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

sealed record RawCallResult(int Status, string Message, IReadOnlyList<byte[]> Messages, HttpResponseHeaders Headers, HttpResponseHeaders Trailers)
{
    /// <summary>The HTTP status the answer came on (a gRPC answer always comes on 200).</summary>
    public int HttpStatus { get; init; } = 200;
}

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
    public Task<RawCallResult> CallAsync(string method, IEnumerable<byte[]> requests, IEnumerable<KeyValuePair<string, string>>? metadata = null, CancellationToken cancellationToken = default,
        RequestEncoding encoding = RequestEncoding.Plain) =>
        SendAsync(method, new ByteArrayContent(requests.SelectMany(m => Frame(m, encoding)).ToArray()), metadata, cancellationToken, gzip: encoding != RequestEncoding.Plain);

    /// <summary>
    /// Sends whatever body the test made, framed or not (a length prefix that lies, half a frame that never
    /// ends); metadata may name a header more than once. Returns once the call has ended.
    /// </summary>
    public async Task<RawCallResult> SendAsync(string method, HttpContent body, IEnumerable<KeyValuePair<string, string>>? metadata = null, CancellationToken cancellationToken = default, bool gzip = false)
    {
        // The path goes out as written: no dot segments resolved, no escapes undone, '//' kept (attacks need that).
        var target = new Uri(address.GetLeftPart(UriPartial.Authority) + "/" + method, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = body,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        if (gzip)
        {
            request.Headers.TryAddWithoutValidation("grpc-encoding", "gzip");
        }
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (key, value) in metadata ?? [])
        {
            request.Headers.TryAddWithoutValidation(key, value);
        }
        using var response = await _http.SendAsync(request, cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var messages = new List<byte[]>();
        for (var offset = 0; offset < bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset + 1));
            messages.Add(bytes.AsSpan(offset + 5, length).ToArray());
            offset += 5 + length;
        }
        var statusSource = response.Headers.Contains("grpc-status") ? response.Headers : response.TrailingHeaders;
        var status = statusSource.TryGetValues("grpc-status", out var codes) ? int.Parse(codes.First()) : -1;
        var text = statusSource.TryGetValues("grpc-message", out var texts) ? Uri.UnescapeDataString(texts.First()) : "";
        return new RawCallResult(status, text, messages, response.Headers, response.TrailingHeaders) { HttpStatus = (int)response.StatusCode };
    }

    /// <summary>A message as one gRPC frame, uncompressed.</summary>
    public static byte[] Frame(byte[] message) => Frame(message, RequestEncoding.Plain);

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
