using Ketenmesh.Grpc.Protocol;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Protocol;

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
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10s")]
    [InlineData("-5S")]
    [InlineData("123456789S")]
    [InlineData("1.5S")]
    public void Malformed_values_are_refused(string header) => Assert.False(GrpcTimeout.TryParse(header, out _));

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
        Assert.True(parsed >= original || original > TimeSpan.FromMinutes(99_999_999), $"{header} is shorter than {original}");
    }
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

    [Theory]
    [InlineData("%")]
    [InlineData("bad %zz escape")]
    [InlineData("ends in %4")]
    public void Malformed_escapes_are_kept_rather_than_failing_the_call(string received) =>
        Assert.Equal(received, StatusMessageEncoding.Decode(received));
}

public sealed class MetadataTests
{
    [Theory]
    [InlineData("grpc-status")]
    [InlineData("Bad Key")]
    [InlineData("schlüssel")]
    public void Reserved_or_invalid_keys_are_refused(string key) =>
        Assert.Throws<ArgumentException>(() => new Metadata.Entry(key, "value"));

    [Fact]
    public void Text_values_must_be_printable_ascii() =>
        Assert.Throws<ArgumentException>(() => new Metadata.Entry("x-note", "naïve"));

    [Fact]
    public void Binary_values_need_a_bin_key_and_text_values_must_not_have_one()
    {
        Assert.Throws<ArgumentException>(() => new Metadata.Entry("x-blob", [1, 2]));
        Assert.Throws<ArgumentException>(() => new Metadata.Entry("x-blob-bin", "text"));
    }

    [Fact]
    public void Keys_are_case_insensitive_and_the_last_value_wins()
    {
        var metadata = new Metadata { { "X-Purpose", "signalling" }, { "x-purpose", "victim_care" } };
        Assert.Equal("victim_care", metadata.GetValue("X-PURPOSE"));
        Assert.Equal(2, metadata.GetAll("x-purpose").Count());
    }

    [Theory]
    [InlineData("AAEC/f7/", new byte[] { 0, 1, 2, 253, 254, 255 })]
    [InlineData("AAE", new byte[] { 0, 1 })]
    [InlineData("AAE=", new byte[] { 0, 1 })]
    public void Binary_header_values_decode_padded_or_not(string header, byte[] expected) =>
        Assert.Equal(expected, MetadataCodec.DecodeBase64(header));
}

public sealed class BrokenStreamTests
{
    [Fact]
    public async Task A_stream_the_peer_reset_reads_as_broken_so_the_server_answers_cancelled_not_unknown()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        // What Kestrel does on RST_STREAM, before it gets round to signalling RequestAborted.
        await pipe.Writer.CompleteAsync(new IOException("The client reset the request stream."));
        var reader = new PipeMessageReader<Ketenmesh.Testing.V1.EchoRequest>(pipe.Reader, Ketenmesh.Testing.V1.EchoRequest.Parser, null, 1024, Grpc.StatusCode.Internal, CancellationToken.None);

        var error = await Assert.ThrowsAsync<StreamBrokenException>(() => reader.MoveNext(CancellationToken.None));

        Assert.Contains("reset", error.Message);
    }
}
