using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Ketenmesh.Policy.Decisions;

namespace Ketenmesh.Gateway.Proxy;

/// <summary>The request as it goes upstream: the one message already read, or the caller's stream relayed frame by frame.</summary>
internal static class RequestBody
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");

    public static HttpContent Single(Frame frame)
    {
        var content = new ByteArrayContent(FrameReader.Encode(frame.Compressed, frame.Payload));
        content.Headers.ContentType = GrpcContentType;
        return content;
    }

    public static StreamedContent Streamed(PipeReader inbound, MethodAccess access, int maxLength) =>
        new(inbound, access, maxLength) { Headers = { ContentType = GrpcContentType } };

    /// <summary>
    /// Relays each message of a client stream as it arrives (flushed, so bidirectional calls stay
    /// interactive), checking the grant's request preconditions on every one.
    /// </summary>
    internal sealed class StreamedContent(PipeReader inbound, MethodAccess access, int maxLength) : HttpContent
    {
        /// <summary>Why the stream was cut off, when a message broke the grant's preconditions.</summary>
        public string? Refusal { get; private set; }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            while (await FrameReader.ReadAsync(inbound, maxLength, cancellationToken) is { } frame)
            {
                if (access.RequiredRequestFields.Count > 0 && access.CheckRequest(FrameReader.Plain(frame, maxLength)) is { } problem)
                {
                    Refusal = problem;
                    throw new RequestRefusedException(problem);
                }
                await stream.WriteAsync(FrameReader.Encode(frame.Compressed, frame.Payload), cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}

/// <summary>A message in the middle of a client stream broke the grant's preconditions.</summary>
internal sealed class RequestRefusedException(string reason) : Exception(reason);
