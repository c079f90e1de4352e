using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Google.Protobuf;
using Ketenmesh.Grpc.Protocol;

namespace Ketenmesh.Grpc.Client;

/// <summary>The body of a unary or server-streaming request: one framed message.</summary>
internal sealed class FramedMessageContent : HttpContent
{
    private readonly byte[] _frame;

    public FramedMessageContent(IMessage message, bool compress, int? maxLength)
    {
        var buffer = new ArrayBufferWriter<byte>(message.CalculateSize() + MessageFraming.HeaderSize);
        MessageFraming.WriteFrame(buffer, message, compress, maxLength);
        _frame = buffer.WrittenSpan.ToArray();
        Headers.ContentType = GrpcContentType.Value;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        stream.WriteAsync(_frame).AsTask();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.WriteAsync(_frame, cancellationToken).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = _frame.Length;
        return true;
    }
}

/// <summary>
/// The body of a client-streaming or bidirectional request: frames go out as the caller writes them,
/// and the stream ends (END_STREAM) when the caller completes it.
/// </summary>
internal sealed class RequestStreamContent : HttpContent
{
    private readonly Channel<ReadOnlyMemory<byte>> _frames = Channel.CreateBounded<ReadOnlyMemory<byte>>(
        new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
    private readonly bool _compress;
    private readonly int? _maxLength;
    private readonly CancellationToken _callToken;

    public RequestStreamContent(bool compress, int? maxLength, CancellationToken callToken)
    {
        _compress = compress;
        _maxLength = maxLength;
        _callToken = callToken;
        Headers.ContentType = GrpcContentType.Value;
    }

    public async Task WriteAsync(IMessage message, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(message.CalculateSize() + MessageFraming.HeaderSize);
        MessageFraming.WriteFrame(buffer, message, _compress, _maxLength);
        try
        {
            await _frames.Writer.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("The request stream is already complete; no more messages can be written.");
        }
    }

    public void Complete() => _frames.Writer.TryComplete();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _callToken);
        await foreach (var frame in _frames.Reader.ReadAllAsync(linked.Token).ConfigureAwait(false))
        {
            await stream.WriteAsync(frame, linked.Token).ConfigureAwait(false);
            await stream.FlushAsync(linked.Token).ConfigureAwait(false);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}

internal static class GrpcContentType
{
    public static readonly MediaTypeHeaderValue Value = new(GrpcHeaders.ContentType);
}
