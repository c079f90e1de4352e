using System.IO.Pipelines;
using Google.Protobuf;

namespace Ketenmesh.Grpc.Protocol;

/// <summary>Reads length-prefixed messages off an HTTP/2 body, one at a time, without copying whole streams.</summary>
internal sealed class PipeMessageReader<T> : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private readonly PipeReader _reader;
    private readonly MessageParser<T> _parser;
    private readonly string? _encoding;
    private readonly int _maxLength;
    private readonly StatusCode _invalidPayloadCode;
    private readonly CancellationToken _callToken;
    private T? _current;

    public PipeMessageReader(PipeReader reader, MessageParser<T> parser, string? encoding, int maxLength, StatusCode invalidPayloadCode, CancellationToken callToken)
    {
        _reader = reader;
        _parser = parser;
        _encoding = encoding;
        _maxLength = maxLength;
        _invalidPayloadCode = invalidPayloadCode;
        _callToken = callToken;
    }

    public T Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        _current = await ReadNextAsync(cancellationToken).ConfigureAwait(false);
        return _current is not null;
    }

    /// <summary>Reads the one message of a unary side: none or a second one is a protocol error.</summary>
    public async Task<T> ReadSingleAsync(string side)
    {
        var message = await ReadNextAsync(default).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.Internal, $"The {side} ended without a message; a unary {side} carries exactly one."));
        if (await ReadNextAsync(default).ConfigureAwait(false) is not null)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"The {side} carried more than one message; a unary {side} carries exactly one."));
        }
        return message;
    }

    private async Task<T?> ReadNextAsync(CancellationToken cancellationToken)
    {
        var token = cancellationToken.CanBeCanceled ? cancellationToken : _callToken;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _reader.ReadAsync(token).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new StreamBrokenException(e);
            }
            var buffer = result.Buffer;
            T? message = null;
            try
            {
                if (MessageFraming.TryReadFrame(ref buffer, _maxLength, out var compressed, out var payload))
                {
                    // Decoded before AdvanceTo releases the memory the payload points into.
                    message = MessageDecoder.Decode(_parser, payload, compressed, _encoding, _maxLength, _invalidPayloadCode);
                    return message;
                }
                if (result.IsCompleted)
                {
                    if (buffer.Length == 0)
                    {
                        return null;
                    }
                    throw new RpcException(new Status(StatusCode.Internal,
                        $"The stream ended inside a message: {buffer.Length} bytes of an incomplete gRPC frame."));
                }
                if (result.IsCanceled)
                {
                    throw new OperationCanceledException(token);
                }
            }
            finally
            {
                // After a whole frame, the rest may already hold the next one: mark only the frame examined.
                if (message is not null)
                {
                    _reader.AdvanceTo(buffer.Start);
                }
                else
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                }
            }
        }
    }
}

/// <summary>
/// The peer reset or broke the stream while we were reading it: the other side went away, which is a
/// cancellation, not a failure of ours. (Kestrel raises this before it signals RequestAborted.)
/// </summary>
internal sealed class StreamBrokenException(IOException inner) : IOException(inner.Message, inner);
