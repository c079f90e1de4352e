using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Grpc.Tests.Support;
using Ketenmesh.Testing.V1;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Conformance;

/// <summary>
/// Every malformed request gets a status (or a clean HTTP error where the protocol says so), never a hang. The
/// codes are grpc-dotnet's as the mesh configures it; where they differ from what our own layer answered,
/// the comment says what PROTOCOL-HTTP2.md (and doc/statuscodes.md) say.
/// </summary>
public sealed class BadInputTests(TestServerFixture fixture) : IClassFixture<TestServerFixture>
{
    private const string Echo = "/ketenmesh.testing.v1.InteropTestService/Echo";
    private const string Collect = "/ketenmesh.testing.v1.InteropTestService/Collect";

    private static byte[] EchoFrame(string text = "hallo") =>
        RawHttp2.Frame(new EchoRequest { Payload = ByteString.CopyFromUtf8(text) });

    [Fact]
    public async Task A_well_formed_raw_call_succeeds_so_the_harness_itself_is_sound()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, EchoFrame());
        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        Assert.Equal(0, response.GrpcStatus);
        Assert.False(response.IsTrailersOnly);
        var echoed = EchoResponse.Parser.ParseFrom(response.Body.AsSpan(5).ToArray());
        Assert.Equal("hallo", echoed.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task Frame_cut_off_midway_is_internal_and_the_connection_keeps_serving()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var frame = EchoFrame("a longer payload that will be cut");
        var response = await raw.PostAsync(Echo, frame[..(frame.Length - 4)]);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("Incomplete message", response.GrpcMessage);

        var next = await raw.PostAsync(Echo, EchoFrame());
        Assert.Equal(0, next.GrpcStatus);
    }

    [Fact]
    public async Task Malformed_request_does_not_disturb_a_stream_in_flight_on_the_same_connection()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.Address);
        using var stream = channel.Interop().Count(new CountRequest { Count = 6, Size = 8, IntervalMs = 50 });
        Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));

        using var raw = new RawHttp2(fixture.Server.Address);
        var bad = await raw.PostAsync(Echo, [0, 0, 0, 0, 9, 1, 2]);
        Assert.Equal((int)StatusCode.Internal, bad.GrpcStatus);

        var received = 1;
        while (await stream.ResponseStream.MoveNext(CancellationToken.None))
        {
            received++;
        }
        Assert.Equal(6, received);
        Assert.Equal(StatusCode.OK, stream.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Payload_that_does_not_parse_as_the_request_message_ends_the_call_with_unknown()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, RawHttp2.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
        // Was INVALID_ARGUMENT naming the type. doc/statuscodes.md says INTERNAL ("error parsing request proto");
        // grpc-dotnet answers UNKNOWN, the code of a handler exception, without detail.
        Assert.Equal((int)StatusCode.Unknown, response.GrpcStatus);
    }

    [Fact]
    public async Task Compressed_flag_other_than_zero_or_one_ends_the_call_with_unknown()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, RawHttp2.Frame(new EchoRequest(), flag: 2));
        // Was INTERNAL. PROTOCOL-HTTP2.md defines only 0 and 1 and names no status for other values; grpc-dotnet
        // answers UNKNOWN, without detail.
        Assert.Equal((int)StatusCode.Unknown, response.GrpcStatus);
    }

    [Fact]
    public async Task Compressed_message_without_grpc_encoding_is_internal()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, RawHttp2.Frame(Gzip(new EchoRequest().ToByteArray()), flag: 1));
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("grpc-encoding", response.GrpcMessage);
    }

    [Fact]
    public async Task Gzip_flagged_message_that_is_not_gzip_ends_the_call_with_unknown()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, RawHttp2.Frame([1, 2, 3, 4], flag: 1), headers: ("grpc-encoding", "gzip"));
        // Was INTERNAL. doc/statuscodes.md says INTERNAL ("could not decompress, but compression algorithm
        // supported"); grpc-dotnet answers UNKNOWN, without detail.
        Assert.Equal((int)StatusCode.Unknown, response.GrpcStatus);
    }

    [Fact]
    public async Task Compressed_message_in_an_unsupported_encoding_is_unimplemented_and_lists_what_is_supported()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, RawHttp2.Frame([1, 2, 3, 4], flag: 1), headers: ("grpc-encoding", "snappy"));
        Assert.Equal((int)StatusCode.Unimplemented, response.GrpcStatus);
        Assert.True(response.IsTrailersOnly);
        Assert.Contains("snappy", response.GrpcMessage);
        Assert.Contains("gzip", response.Value("grpc-accept-encoding")!.Split(',', StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Uncompressed_message_is_served_whatever_grpc_encoding_names()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, EchoFrame(), headers: ("grpc-encoding", "snappy"));
        // Was UNIMPLEMENTED for the header alone. A compressed flag of 0 means the message is not compressed
        // (PROTOCOL-HTTP2.md), so grpc-dotnet never needs the encoding and serves the call.
        Assert.Equal(0, response.GrpcStatus);
        Assert.Equal("hallo", EchoResponse.Parser.ParseFrom(response.Body.AsSpan(5).ToArray()).Payload.ToStringUtf8());
    }

    [Fact]
    public async Task Gzip_request_is_decompressed_and_answered_uncompressed()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var payload = new string('k', 10_000);
        var frame = RawHttp2.Frame(Gzip(new EchoRequest { Payload = ByteString.CopyFromUtf8(payload) }.ToByteArray()), flag: 1);
        var response = await raw.PostAsync(Echo, frame, headers: [("grpc-encoding", "gzip"), ("grpc-accept-encoding", "gzip")]);
        Assert.Equal(0, response.GrpcStatus);
        // Was answered in gzip. Each side chooses its own message encoding (PROTOCOL-HTTP2.md: grpc-encoding is
        // optional on the response); AddChainGrpc sets no ResponseCompressionAlgorithm, so responses go uncompressed.
        Assert.Null(response.Value("grpc-encoding"));
        Assert.Equal(0, response.Body[0]);
        var echoed = EchoResponse.Parser.ParseFrom(response.Body.AsSpan(5).ToArray());
        Assert.Equal(payload, echoed.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task Gzip_bomb_beyond_the_size_limit_is_resource_exhausted()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var inflated = new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) }.ToByteArray();
        var response = await raw.PostAsync(Echo, RawHttp2.Frame(Gzip(inflated), flag: 1), headers: ("grpc-encoding", "gzip"));
        Assert.Equal((int)StatusCode.ResourceExhausted, response.GrpcStatus);
        Assert.Contains("exceeds the maximum configured message size", response.GrpcMessage);
    }

    [Fact]
    public async Task Oversized_message_is_refused_with_resource_exhausted_from_its_length_prefix_alone()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        // Only the 5-byte prefix of a 4 MiB + 1 message: the server must refuse it without waiting for the rest.
        byte[] header = [0, 0x00, 0x40, 0x00, 0x01];
        var response = await raw.PostAsync(Echo, header);
        Assert.Equal((int)StatusCode.ResourceExhausted, response.GrpcStatus);
        Assert.Contains("exceeds the maximum configured message size", response.GrpcMessage);
    }

    // Unchanged from our layer: INTERNAL, though doc/statuscodes.md names UNIMPLEMENTED for a request cardinality
    // violation (a unary method given no message, or two).
    [Fact]
    public async Task Unary_request_without_a_message_is_internal()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, []);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("Incomplete message", response.GrpcMessage);
    }

    [Fact]
    public async Task Unary_request_with_two_messages_is_internal()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, [.. EchoFrame(), .. EchoFrame()]);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("Additional data after the message", response.GrpcMessage);
    }

    [Fact]
    public async Task Client_stream_that_ends_inside_a_frame_is_internal()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var item = RawHttp2.Frame(new StreamItem { Index = 1 });
        var response = await raw.PostAsync(Collect, [.. item, .. item, 0, 0, 0]);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
    }

    [Fact]
    public async Task Malformed_timeout_header_is_ignored_and_the_call_is_served_without_a_deadline()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, EchoFrame(), headers: ("grpc-timeout", "10 seconds"));
        // Was INTERNAL. PROTOCOL-HTTP2.md gives the grammar (1-8 digits and a unit) but no status for a value
        // outside it; grpc-dotnet treats it as absent ("if Timeout is omitted a server should assume an infinite
        // timeout") and serves the call.
        Assert.Equal(0, response.GrpcStatus);
    }

    [Fact]
    public async Task Non_grpc_content_type_gets_http_415_and_a_grpc_status()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, EchoFrame(), contentType: "application/json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.HttpStatus);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("application/json", response.GrpcMessage);
    }

    [Fact]
    public async Task Grpc_proto_content_type_is_accepted()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, EchoFrame(), contentType: "application/grpc+proto");
        Assert.Equal(0, response.GrpcStatus);
    }

    // grpc-dotnet's messages for an unknown service or method do not name it, as ours did; the code is the
    // protocol's (doc/statuscodes.md: "method not found at server", UNIMPLEMENTED).
    [Fact]
    public async Task Unknown_service_is_unimplemented()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync("/chain.nowhere.v1.Nothing/Do", EchoFrame());
        Assert.Equal((int)StatusCode.Unimplemented, response.GrpcStatus);
        Assert.True(response.IsTrailersOnly);
        Assert.Equal("Service is unimplemented.", response.GrpcMessage);
    }

    [Fact]
    public async Task Unknown_method_of_a_known_service_is_unimplemented()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync("/ketenmesh.testing.v1.InteropTestService/Teleport", EchoFrame());
        Assert.Equal((int)StatusCode.Unimplemented, response.GrpcStatus);
        Assert.True(response.IsTrailersOnly);
        Assert.Equal("Method is unimplemented.", response.GrpcMessage);
    }

    [Fact]
    public async Task Http1_on_the_cleartext_port_is_refused_without_harming_the_server()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var refused = await raw.PostAsync(Echo, EchoFrame(), version: HttpVersion.Version11);
        Assert.Equal(HttpStatusCode.BadRequest, refused.HttpStatus);
        Assert.Contains("HTTP/2 only endpoint", System.Text.Encoding.UTF8.GetString(refused.Body));
        using var good = new RawHttp2(fixture.Server.Address);
        Assert.Equal(0, (await good.PostAsync(Echo, EchoFrame())).GrpcStatus);
    }

    [Fact]
    public async Task Http1_over_tls_gets_426_upgrade_required()
    {
        using var raw = new RawHttp2(fixture.Server.TlsAddress!, TrustingHandler());
        var response = await raw.PostAsync(Echo, EchoFrame(), version: HttpVersion.Version11);
        Assert.Equal(HttpStatusCode.UpgradeRequired, response.HttpStatus);
        // The reason was in the body; grpc-dotnet puts it in grpc-status and grpc-message headers instead.
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("HTTP/1.1", response.GrpcMessage);
    }

    [Fact]
    public async Task Grpc_over_tls_with_alpn_h2_works_with_our_client()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.TlsAddress!, new GrpcChannelOptions { HttpHandler = TrustingHandler() });
        var response = await channel.Interop().EchoAsync(new EchoRequest { Payload = ByteString.CopyFromUtf8("tls") });
        Assert.Equal("tls", response.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task Get_request_is_not_found()
    {
        using var client = new HttpClient(new SocketsHttpHandler())
        {
            BaseAddress = fixture.Server.Address,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(20),
        };
        using var response = await client.GetAsync(Echo);
        // Was 405. gRPC is POST only (PROTOCOL-HTTP2.md) and names no answer for other methods; the unimplemented-
        // method route grpc-dotnet maps takes any HTTP method, so routing answers 404 instead of 405. Either way
        // a gRPC client reads it as UNIMPLEMENTED.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(response.Headers.Contains("grpc-status"));
    }

    private static SocketsHttpHandler TrustingHandler() => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    };

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }
}
