using System.Buffers;
using System.IO.Compression;
using System.Net;
using System.Text;
using Grpc.Core;
using Ketenmesh.Gateway.Proxy.Wire;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Ketenmesh.Gateway.Tests.Wire;

// The gRPC wire helpers the gateway's relay uses (gateway/Proxy/Wire), checked without a server. Their tests moved
// here from the deleted gRPC layer's test project, with the framing and compression checks its server tests made.

public sealed class GrpcTimeoutTests
{
    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("3S", 30_000_000L)]
    [InlineData("250m", 2_500_000L)]
    [InlineData("1500u", 15_000L)]
    [InlineData("99999999n", 999_999L)]
    public void Each_unit_of_the_protocol_is_understood(string header, long ticks)
    {
        Assert.True(GrpcTimeout.TryParse(header, out var timeout));
        Assert.Equal(ticks, timeout.Ticks);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10s")]
    [InlineData("-5S")]
    [InlineData("123456789S")]
    [InlineData("1.5S")]
    public void Malformed_values_are_refused(string? header) => Assert.False(GrpcTimeout.TryParse(header, out _));

    [Theory]
    [InlineData(0.0004)]
    [InlineData(0.25)]
    [InlineData(30)]
    [InlineData(86_400)]
    [InlineData(400_000_000)]
    public void Formatted_timeout_never_shortens_the_deadline_and_fits_eight_digits(double seconds)
    {
        var original = TimeSpan.FromSeconds(seconds);
        var header = GrpcTimeout.Format(original);
        Assert.InRange(header.Length, 2, 9);
        Assert.True(GrpcTimeout.TryParse(header, out var parsed));
        Assert.True(parsed >= original, $"{header} is shorter than {original}");
    }

    [Fact]
    public void Deadline_already_past_is_sent_as_zero() => Assert.Equal("0u", GrpcTimeout.Format(TimeSpan.FromSeconds(-1)));
}

public sealed class StatusMessageEncodingTests
{
    [Theory]
    [InlineData("plain ascii stays as it is")]
    [InlineData("Zoë uit Ósló — 登録済み ✓")]
    [InlineData("100% sure")]
    [InlineData("line\nbreak")]
    public void Any_text_survives_encoding_and_decoding(string message)
    {
        var encoded = StatusMessageEncoding.Encode(message);
        Assert.All(encoded, c => Assert.InRange(c, ' ', '~'));
        Assert.Equal(message, StatusMessageEncoding.Decode(encoded));
    }

    [Fact]
    public void Percent_sign_is_escaped_so_decoding_is_unambiguous() =>
        Assert.Equal("100%25", StatusMessageEncoding.Encode("100%"));

    [Fact]
    public void Non_ascii_text_is_sent_as_percent_encoded_utf8() =>
        Assert.Equal("Zo%C3%AB", StatusMessageEncoding.Encode("Zoë"));

    [Theory]
    [InlineData("%")]
    [InlineData("bad %zz escape")]
    [InlineData("ends in %4")]
    public void Malformed_escapes_are_kept_rather_than_failing_the_call(string received) =>
        Assert.Equal(received, StatusMessageEncoding.Decode(received));
}

public sealed class MessageFramingTests
{
    private const int FourMegabytes = 4 * 1024 * 1024;

    [Fact]
    public void Whole_frames_are_taken_off_the_front_one_at_a_time()
    {
        var buffer = new ReadOnlySequence<byte>([.. Frame([1, 2, 3]), .. Frame([4], flag: 1)]);

        Assert.True(MessageFraming.TryReadFrame(ref buffer, FourMegabytes, out var firstCompressed, out var first));
        Assert.False(firstCompressed);
        Assert.Equal([1, 2, 3], first.ToArray());
        Assert.True(MessageFraming.TryReadFrame(ref buffer, FourMegabytes, out var secondCompressed, out var second));
        Assert.True(secondCompressed);
        Assert.Equal([4], second.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void Partial_frame_waits_for_more_bytes_and_leaves_the_buffer_as_it_was(int available)
    {
        var bytes = Frame([1, 2, 3, 4, 5]);
        var buffer = new ReadOnlySequence<byte>(bytes, 0, available);

        Assert.False(MessageFraming.TryReadFrame(ref buffer, FourMegabytes, out _, out _));
        Assert.Equal(available, buffer.Length);
    }

    [Fact]
    public void Empty_message_is_a_frame_of_its_own()
    {
        var buffer = new ReadOnlySequence<byte>(Frame([]));
        Assert.True(MessageFraming.TryReadFrame(ref buffer, FourMegabytes, out _, out var payload));
        Assert.True(payload.IsEmpty);
    }

    [Fact]
    public void Compressed_flag_other_than_zero_or_one_is_internal()
    {
        var buffer = new ReadOnlySequence<byte>(Frame([1], flag: 2));
        var error = Assert.Throws<RpcException>(() => MessageFraming.TryReadFrame(ref buffer, FourMegabytes, out _, out _));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("compressed flag is 2", error.Status.Detail);
    }

    [Fact]
    public void Oversized_message_is_refused_with_resource_exhausted_from_its_length_prefix_alone()
    {
        // Only the 5-byte prefix of a 4 MiB + 1 message: there is no need to wait for the rest.
        var buffer = new ReadOnlySequence<byte>([0, 0x00, 0x40, 0x00, 0x01]);
        var error = Assert.Throws<RpcException>(() => MessageFraming.TryReadFrame(ref buffer, FourMegabytes, out _, out _));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("4194305 bytes exceeds the maximum message size of 4194304", error.Status.Detail);
    }

    [Fact]
    public void Written_header_reads_back_as_the_same_frame()
    {
        var bytes = new byte[MessageFraming.HeaderSize + 3];
        MessageFraming.WriteHeader(bytes, compressed: true, length: 3);
        new byte[] { 7, 8, 9 }.CopyTo(bytes, MessageFraming.HeaderSize);
        Assert.Equal([1, 0, 0, 0, 3], bytes[..MessageFraming.HeaderSize]);

        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(MessageFraming.TryReadFrame(ref buffer, FourMegabytes, out var compressed, out var payload));
        Assert.True(compressed);
        Assert.Equal([7, 8, 9], payload.ToArray());
    }

    private static byte[] Frame(byte[] payload, byte flag = 0)
    {
        var frame = new byte[MessageFraming.HeaderSize + payload.Length];
        frame[0] = flag;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, MessageFraming.HeaderSize);
        return frame;
    }
}

public sealed class MessageCompressionTests
{
    [Fact]
    public void Compressed_message_decompresses_to_what_was_sent()
    {
        var message = Encoding.UTF8.GetBytes(new string('k', 10_000));
        var compressed = MessageCompression.Compress(message);
        Assert.True(compressed.Length < 1000, "a 10 kB run of one letter should compress well");
        Assert.Equal(message, MessageCompression.Decompress(new ReadOnlySequence<byte>(compressed), maxLength: 10_000));
    }

    [Fact]
    public void Gzip_bomb_beyond_the_size_limit_is_resource_exhausted()
    {
        var bomb = Gzip(new byte[5 * 1024 * 1024]);
        var error = Assert.Throws<RpcException>(() => MessageCompression.Decompress(new ReadOnlySequence<byte>(bomb), maxLength: 4 * 1024 * 1024));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("after gzip decompression", error.Status.Detail);
    }

    [Fact]
    public void Gzip_flagged_message_that_is_not_gzip_is_internal()
    {
        // doc/statuscodes.md: "could not decompress, but compression algorithm supported" is INTERNAL.
        var error = Assert.Throws<RpcException>(() => MessageCompression.Decompress(new ReadOnlySequence<byte>([1, 2, 3, 4]), maxLength: 1024));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("not valid gzip", error.Status.Detail);
    }

    [Theory]
    [InlineData("gzip", true)]
    [InlineData("identity,gzip", true)]
    [InlineData("deflate, GZIP", true)]
    [InlineData("identity", false)]
    [InlineData("gzipped", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Gzip_is_used_only_when_the_caller_accepts_it(string? acceptEncoding, bool accepted) =>
        Assert.Equal(accepted, MessageCompression.AcceptsGzip(acceptEncoding));

    [Theory]
    [InlineData("identity", true)]
    [InlineData("gzip", true)]
    [InlineData("GZIP", true)]
    [InlineData("snappy", false)]
    [InlineData("deflate", false)]
    public void Supported_encodings_are_identity_and_gzip(string encoding, bool supported) =>
        Assert.Equal(supported, MessageCompression.IsSupported(encoding));

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

public sealed class GrpcHeadersTests
{
    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc;charset=utf-8", true)]
    [InlineData("Application/GRPC", true)]
    [InlineData("application/grpc+json", false)]
    [InlineData("application/grpc-web", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void Only_grpc_with_protobuf_is_a_grpc_content_type(string? contentType, bool grpc) =>
        Assert.Equal(grpc, GrpcHeaders.IsGrpcContentType(contentType));

    [Theory]
    [InlineData(":path")]
    [InlineData("grpc-status")]
    [InlineData("grpc-timeout")]
    [InlineData("Grpc-Encoding")]
    [InlineData("content-type")]
    [InlineData("te")]
    [InlineData("host")]
    [InlineData("content-length")]
    [InlineData("accept-encoding")]
    [InlineData("")]
    public void Protocol_headers_are_not_relayed_as_metadata(string name) => Assert.True(GrpcHeaders.IsReserved(name));

    [Theory]
    [InlineData("grpc-status-details-bin")]
    [InlineData("x-chain-purpose")]
    [InlineData("x-echo-bin")]
    [InlineData("traceparent")]
    public void Custom_metadata_and_rich_error_details_are_relayed(string name) => Assert.False(GrpcHeaders.IsReserved(name));
}

public sealed class HttpStatusMappingTests
{
    // gRPC's table for answers that carry no grpc-status (doc/http-grpc-status-mapping.md).
    [Theory]
    [InlineData(HttpStatusCode.BadRequest, StatusCode.Internal)]
    [InlineData(HttpStatusCode.Unauthorized, StatusCode.Unauthenticated)]
    [InlineData(HttpStatusCode.Forbidden, StatusCode.PermissionDenied)]
    [InlineData(HttpStatusCode.NotFound, StatusCode.Unimplemented)]
    [InlineData(HttpStatusCode.TooManyRequests, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.BadGateway, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.ServiceUnavailable, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.InternalServerError, StatusCode.Unknown)]
    [InlineData(HttpStatusCode.UnsupportedMediaType, StatusCode.Unknown)]
    public void Http_status_without_grpc_status_maps_as_the_protocol_says(HttpStatusCode http, StatusCode grpc) =>
        Assert.Equal(grpc, HttpStatusMapping.ToStatusCode(http));
}

public sealed class GrpcStatusWriterTests
{
    [Fact]
    public void Status_before_any_message_is_trailers_only_in_the_headers_with_the_message_percent_encoded()
    {
        var http = new DefaultHttpContext();

        GrpcStatusWriter.Write(http.Response, new Status(StatusCode.NotFound, "Geen signaal voor Zoë"));

        Assert.Equal("application/grpc", http.Response.ContentType);
        Assert.Equal("5", http.Response.Headers["grpc-status"]);
        Assert.Equal("Geen signaal voor Zo%C3%AB", http.Response.Headers["grpc-message"]);
    }

    [Fact]
    public void Status_after_messages_goes_in_the_trailers()
    {
        var http = new DefaultHttpContext();
        var trailers = new TrailersFeature();
        http.Features.Set<IHttpResponseTrailersFeature>(trailers);

        GrpcStatusWriter.Write(http.Response, new Status(StatusCode.Unavailable, "100% busy"), trailersOnly: false);

        Assert.Equal("14", trailers.Trailers["grpc-status"]);
        Assert.Equal("100%25 busy", trailers.Trailers["grpc-message"]);
        Assert.False(http.Response.Headers.ContainsKey("grpc-status"));
    }

    [Fact]
    public void Status_without_a_message_sends_no_grpc_message()
    {
        var http = new DefaultHttpContext();
        GrpcStatusWriter.Write(http.Response, new Status(StatusCode.OK, ""));
        Assert.Equal("0", http.Response.Headers["grpc-status"]);
        Assert.False(http.Response.Headers.ContainsKey("grpc-message"));
    }

    private sealed class TrailersFeature : IHttpResponseTrailersFeature
    {
        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();
    }
}

public sealed class ProtocolGuardTests
{
    [Fact]
    public async Task Grpc_over_http2_is_let_through()
    {
        var http = Request("HTTP/2", "POST", "application/grpc");
        Assert.True(await ProtocolGuard.AcceptAsync(http));
        Assert.Equal(StatusCodes.Status200OK, http.Response.StatusCode);
    }

    [Fact]
    public async Task Http1_is_told_to_upgrade_with_426_and_a_readable_reason()
    {
        var http = Request("HTTP/1.1", "POST", "application/grpc");

        Assert.False(await ProtocolGuard.AcceptAsync(http));

        Assert.Equal(StatusCodes.Status426UpgradeRequired, http.Response.StatusCode);
        Assert.Equal("h2", http.Response.Headers.Upgrade);
        Assert.Contains("gRPC requires HTTP/2", Body(http));
    }

    [Fact]
    public async Task Method_other_than_post_is_405_with_a_grpc_status()
    {
        var http = Request("HTTP/2", "GET", "application/grpc");

        Assert.False(await ProtocolGuard.AcceptAsync(http));

        Assert.Equal(StatusCodes.Status405MethodNotAllowed, http.Response.StatusCode);
        Assert.Equal("13", http.Response.Headers["grpc-status"]);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData(null)]
    public async Task Non_grpc_content_type_gets_http_415_and_a_grpc_status(string? contentType)
    {
        var http = Request("HTTP/2", "POST", contentType);

        Assert.False(await ProtocolGuard.AcceptAsync(http));

        // PROTOCOL-HTTP2.md: a server should answer an unsupported Content-Type with HTTP 415.
        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, http.Response.StatusCode);
        Assert.Equal("13", http.Response.Headers["grpc-status"]);
        Assert.Contains("is not supported", StatusMessageEncoding.Decode(http.Response.Headers["grpc-message"].ToString()));
    }

    private static DefaultHttpContext Request(string protocol, string method, string? contentType)
    {
        var http = new DefaultHttpContext();
        http.Request.Protocol = protocol;
        http.Request.Method = method;
        http.Request.ContentType = contentType;
        http.Response.Body = new MemoryStream();
        return http;
    }

    private static string Body(HttpContext http) => Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());
}
