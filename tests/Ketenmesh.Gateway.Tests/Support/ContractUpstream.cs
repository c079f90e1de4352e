using Ketenmesh.Testing;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using Ketenmesh.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>
/// Stands in for the chain services that are not built yet: a plain HTTP/2 gRPC server (not our gRPC
/// layer) that answers any chain method with messages whose every field is set, plus a field the
/// contracts do not know. It echoes the metadata it received as response headers (echo-…), and
/// holds a call as long as x-test-delay-ms says, noting calls the caller cancelled. With x-test-answer
/// "gzip" it compresses its messages (though asked not to); with "garbage" it sends bytes that are no message.
/// The request messages of a call that names a test case (x-test-case) are kept in <see cref="Received"/>.
/// </summary>
sealed class ContractUpstream : IAsyncDisposable
{
    public const int StreamLength = 3;

    private readonly WebApplication _app;

    private ContractUpstream(WebApplication app, int port)
    {
        _app = app;
        Address = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Address { get; }

    /// <summary>Methods whose call ended because the caller went away.</summary>
    public ConcurrentQueue<string> Cancelled { get; } = new();

    /// <summary>The request target of every request that arrived, whether or not it named a chain method.</summary>
    public ConcurrentQueue<string> Targets { get; } = new();

    /// <summary>Every call that arrived, with the headers it carried.</summary>
    public ConcurrentQueue<(string Method, IHeaderDictionary Headers)> Calls { get; } = new();

    public static async Task<ContractUpstream> StartAsync()
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        var upstream = new ContractUpstream(app, port);
        app.Use((http, next) =>
        {
            if (HttpMethods.IsPost(http.Request.Method))
            {
                upstream.Targets.Enqueue(http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget);
            }
            return next(http);
        });
        app.MapPost("{service}/{method}", upstream.HandleAsync);
        await app.StartAsync();
        return upstream;
    }

    private async Task HandleAsync(HttpContext http, string service, string method)
    {
        var name = $"{service}/{method}";
        Calls.Enqueue((name, new HeaderDictionary(http.Request.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase))));
        var descriptor = MethodCatalog.Chain.Find(name);
        http.Response.ContentType = "application/grpc";
        if (descriptor is null)
        {
            http.Response.Headers["grpc-status"] = "12";
            return;
        }
        foreach (var (key, value) in http.Request.Headers)
        {
            if (key.StartsWith("x-", StringComparison.OrdinalIgnoreCase) || key is "authorization" or "traceparent")
            {
                http.Response.Headers["echo-" + key] = value;
            }
        }
        // Drain the request so client streams complete; a test's case keeps what it carried.
        await ReceiveAsync(http);
        if (int.TryParse(http.Request.Headers["x-test-delay-ms"], out var delay))
        {
            try
            {
                await Task.Delay(delay, http.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Cancelled.Enqueue(name);
                return;
            }
        }
        var message = SampleMessages.Full(descriptor.OutputType);
        string? answer = http.Request.Headers["x-test-answer"];
        var compressed = answer == "gzip";
        if (compressed)
        {
            using var buffer = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest))
            {
                gzip.Write(message);
            }
            message = buffer.ToArray();
            http.Response.Headers["grpc-encoding"] = "gzip";
        }
        else if (answer == "garbage")
        {
            // A field tag with wire type 7, which protobuf does not have.
            message = [0x0f, 0x01, 0x02];
        }
        var count = descriptor.IsServerStreaming ? StreamLength : 1;
        await http.Response.StartAsync();
        for (var i = 0; i < count; i++)
        {
            var frame = new byte[5 + message.Length];
            frame[0] = compressed ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
            message.CopyTo(frame, 5);
            await http.Response.Body.WriteAsync(frame);
            await http.Response.Body.FlushAsync();
        }
        http.Response.AppendTrailer("grpc-status", "0");
        http.Response.AppendTrailer("echo-trailer", "kept");
    }

    /// <summary>
    /// The request messages of every call that named a test case (x-test-case), as this service read them:
    /// the bytes of each whole frame that arrived, inflated when flagged compressed.
    /// </summary>
    public ConcurrentDictionary<string, ReceivedRequest> Received { get; } = new();

    private async Task ReceiveAsync(HttpContext http)
    {
        string? testCase = http.Request.Headers["x-test-case"];
        var received = testCase is null ? null : Received.GetOrAdd(testCase, _ => new ReceivedRequest());
        using var body = new MemoryStream();
        try
        {
            await http.Request.Body.CopyToAsync(body);
        }
        finally
        {
            // A stream the gateway cut off ends in an exception here: what arrived before it is kept all the same.
            received?.Arrived(body.ToArray());
        }
    }

    /// <summary>What one call brought: its whole request frames, complete once the request has ended (or was cut off).</summary>
    public sealed class ReceivedRequest
    {
        private readonly TaskCompletionSource<IReadOnlyList<byte[]>> _messages = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<IReadOnlyList<byte[]>> Messages => _messages.Task;

        /// <summary>Whether any frame arrived flagged compressed.</summary>
        public bool AnyCompressed { get; private set; }

        public void Arrived(byte[] body)
        {
            var messages = new List<byte[]>();
            for (var offset = 0; offset + 5 <= body.Length;)
            {
                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(offset + 1));
                if (offset + 5 + length > body.Length)
                {
                    break;
                }
                var payload = body.AsSpan(offset + 5, length).ToArray();
                AnyCompressed |= body[offset] == 1;
                messages.Add(body[offset] == 1 ? Inflate(payload) : payload);
                offset += 5 + length;
            }
            _messages.TrySetResult(messages);
        }

        private static byte[] Inflate(byte[] payload)
        {
            using var output = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(new MemoryStream(payload), System.IO.Compression.CompressionMode.Decompress))
            {
                gzip.CopyTo(output);
            }
            return output.ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
