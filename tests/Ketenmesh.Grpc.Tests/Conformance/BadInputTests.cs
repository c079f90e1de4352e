using Grpc.Net.Client;
using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Grpc.Tests.Support;
using Ketenmesh.Testing.V1;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Conformance;

/// <summary>Every malformed request gets the right status and a message a partner's developer can act on.</summary>
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
        Assert.Contains("incomplete gRPC frame", response.GrpcMessage);

        var next = await raw.PostAsync(Echo, EchoFrame());
        Assert.Equal(0, next.GrpcStatus);
    }

    [Fact]
    public async Task Malformed_request_does_not_disturb_a_stream_in_flight_on_the_same_connection()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.Address);
        var client = new GrpcClient(channel);
        using var stream = client.ServerStreamingCall(Methods.Count, new CountRequest { Count = 6, Size = 8, IntervalMs = 50 });
        Assert.True(await stream.ResponseStream.MoveNext(default));

        using var raw = new RawHttp2(fixture.Server.Address);
        var bad = await raw.PostAsync(Echo, [0, 0, 0, 0, 9, 1, 2]);
        Assert.Equal((int)StatusCode.Internal, bad.GrpcStatus);

        var received = 1;
        while (await stream.ResponseStream.MoveNext(default))
        {
            received++;
        }
        Assert.Equal(6, received);
        Assert.Equal(StatusCode.OK, stream.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Payload_that_is_not_the_request_message_is_invalid_argument_naming_the_type()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, RawHttp2.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.Equal((int)StatusCode.InvalidArgument, response.GrpcStatus);
        Assert.Contains("ketenmesh.testing.v1.EchoRequest", response.GrpcMessage);
    }

    [Fact]
    public async Task Compressed_flag_other_than_zero_or_one_is_internal()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, RawHttp2.Frame(new EchoRequest(), flag: 2));
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("compressed flag is 2", response.GrpcMessage);
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
    public async Task Gzip_flagged_message_that_is_not_gzip_is_internal()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, RawHttp2.Frame([1, 2, 3, 4], flag: 1), headers: ("grpc-encoding", "gzip"));
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("not valid gzip", response.GrpcMessage);
    }

    [Fact]
    public async Task Unsupported_message_encoding_is_unimplemented_and_lists_what_is_supported()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, EchoFrame(), headers: ("grpc-encoding", "snappy"));
        Assert.Equal((int)StatusCode.Unimplemented, response.GrpcStatus);
        Assert.True(response.IsTrailersOnly);
        Assert.Contains("snappy", response.GrpcMessage);
        Assert.Equal("identity,gzip", response.Value("grpc-accept-encoding"));
    }

    [Fact]
    public async Task Gzip_request_is_answered_in_gzip_when_the_client_accepts_it()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var payload = new string('k', 10_000);
        var frame = RawHttp2.Frame(Gzip(new EchoRequest { Payload = ByteString.CopyFromUtf8(payload) }.ToByteArray()), flag: 1);
        var response = await raw.PostAsync(Echo, frame, headers: [("grpc-encoding", "gzip"), ("grpc-accept-encoding", "gzip")]);
        Assert.Equal(0, response.GrpcStatus);
        Assert.Equal("gzip", response.Value("grpc-encoding"));
        Assert.Equal(1, response.Body[0]);
        Assert.True(response.Body.Length < 1000, "a 10 kB run of one letter should compress well");
        var echoed = EchoResponse.Parser.ParseFrom(Gunzip(response.Body[5..]));
        Assert.Equal(payload, echoed.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task Gzip_bomb_beyond_the_size_limit_is_resource_exhausted()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var inflated = new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) }.ToByteArray();
        var response = await raw.PostAsync(Echo, RawHttp2.Frame(Gzip(inflated), flag: 1), headers: ("grpc-encoding", "gzip"));
        Assert.Equal((int)StatusCode.ResourceExhausted, response.GrpcStatus);
        Assert.Contains("after gzip decompression", response.GrpcMessage);
    }

    [Fact]
    public async Task Message_over_the_size_limit_is_refused_from_its_length_prefix_alone()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        byte[] header = [0, 0x00, 0x40, 0x00, 0x01];
        var response = await raw.PostAsync(Echo, header);
        Assert.Equal((int)StatusCode.ResourceExhausted, response.GrpcStatus);
        Assert.Contains("4194305 bytes exceeds the maximum message size of 4194304", response.GrpcMessage);
    }

    [Fact]
    public async Task Unary_request_without_a_message_is_internal()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, []);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("without a message", response.GrpcMessage);
    }

    [Fact]
    public async Task Unary_request_with_two_messages_is_internal()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, [.. EchoFrame(), .. EchoFrame()]);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("more than one message", response.GrpcMessage);
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
    public async Task Malformed_timeout_header_is_refused_before_the_service_runs()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync(Echo, EchoFrame(), headers: ("grpc-timeout", "10 seconds"));
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("grpc-timeout", response.GrpcMessage);
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

    [Fact]
    public async Task Unknown_service_is_unimplemented_and_says_which()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync("/chain.nowhere.v1.Nothing/Do", EchoFrame());
        Assert.Equal((int)StatusCode.Unimplemented, response.GrpcStatus);
        Assert.True(response.IsTrailersOnly);
        Assert.Contains("chain.nowhere.v1.Nothing", response.GrpcMessage);
    }

    [Fact]
    public async Task Unknown_method_of_a_known_service_is_unimplemented_and_says_which()
    {
        using var raw = new RawHttp2(fixture.Server.Address);
        var response = await raw.PostAsync("/ketenmesh.testing.v1.InteropTestService/Teleport", EchoFrame());
        Assert.Equal((int)StatusCode.Unimplemented, response.GrpcStatus);
        Assert.Contains("Method 'Teleport' is not part of service", response.GrpcMessage);
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
        Assert.Contains("HTTP/2", System.Text.Encoding.UTF8.GetString(response.Body));
    }

    [Fact]
    public async Task Grpc_over_tls_with_alpn_h2_works_with_our_client()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.TlsAddress!, new GrpcChannelOptions { HttpHandler = TrustingHandler() });
        var response = await new GrpcClient(channel).UnaryCall(Methods.Echo, new EchoRequest { Payload = ByteString.CopyFromUtf8("tls") });
        Assert.Equal("tls", response.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task Get_request_is_not_served_as_grpc()
    {
        using var client = new HttpClient(new SocketsHttpHandler()) { BaseAddress = fixture.Server.Address, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.GetAsync(Echo);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
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

    private static byte[] Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
