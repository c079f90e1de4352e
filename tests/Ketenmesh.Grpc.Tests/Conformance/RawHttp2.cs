using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace Ketenmesh.Grpc.Tests.Conformance;

/// <summary>What came back for a hand-made request: everything a gRPC client would look at.</summary>
public sealed record RawResponse(HttpStatusCode HttpStatus, HttpResponseHeaders Headers, HttpResponseHeaders Trailers, byte[] Body)
{
    /// <summary>grpc-status from the trailers, or from the headers of a trailers-only response.</summary>
    public int? GrpcStatus => int.TryParse(Value("grpc-status"), out var code) ? code : null;

    public string? GrpcMessage => Value("grpc-message") is { } m ? Uri.UnescapeDataString(m) : null;

    public string? Value(string name) =>
        Trailers.TryGetValues(name, out var t) ? t.First() : Headers.TryGetValues(name, out var h) ? h.First() : null;

    public bool IsTrailersOnly => Headers.Contains("grpc-status") && Body.Length == 0;
}

/// <summary>Sends hand-made bytes over HTTP/2 so tests can break the protocol on purpose.</summary>
public sealed class RawHttp2 : IDisposable
{
    private readonly HttpClient _client;

    public RawHttp2(Uri address, HttpMessageHandler? handler = null)
    {
        // Every hand-made request must end in an answer or a reset: a hang fails the test after 20 s instead of stalling the run.
        _client = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: true) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(20) };
    }

    public static byte[] Frame(IMessage message, byte flag = 0) => Frame(message.ToByteArray(), flag);

    public static byte[] Frame(byte[] payload, byte flag = 0)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    public async Task<RawResponse> PostAsync(string path, byte[] body, string contentType = "application/grpc", Version? version = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Version = version ?? HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TE.ParseAdd("trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await _client.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return new RawResponse(response.StatusCode, response.Headers, response.TrailingHeaders, bytes);
    }

    public void Dispose() => _client.Dispose();
}
