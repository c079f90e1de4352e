using System.IO.Pipelines;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Gateway.Proxy;
using Ketenmesh.Policy.Decisions;
using Ketenmesh.Policy.Masks;

namespace Ketenmesh.Gateway.Forwarding;

/// <summary>
/// A read-only stream that hands out whole gRPC frames, one produced at a time: what YARP copies is
/// never more than one message ahead of what was checked or minimised.
/// </summary>
internal abstract class FrameStream : Stream
{
    private ReadOnlyMemory<byte> _pending;
    private bool _ended;

    /// <summary>The next frame to hand out, or null at the end of the stream.</summary>
    protected abstract ValueTask<byte[]?> NextFrameAsync(CancellationToken cancellationToken);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // YARP asks with an empty buffer first, to wait for data before it rents one; answering at once is allowed.
        if (buffer.IsEmpty)
        {
            return 0;
        }
        while (_pending.IsEmpty)
        {
            if (_ended || await NextFrameAsync(cancellationToken) is not { } frame)
            {
                _ended = true;
                return 0;
            }
            _pending = frame;
        }
        var count = Math.Min(buffer.Length, _pending.Length);
        _pending[..count].CopyTo(buffer);
        _pending = _pending[count..];
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// A client stream on its way to the service: every message framed within the size limit, parsed as the
/// method's request type and checked against the grant's preconditions as it passes, then forwarded as
/// parsed (<see cref="CanonicalRequest"/>); the first that fails cuts the stream off.
/// </summary>
internal sealed class CheckedRequestStream(PipeReader inbound, MethodAccess access, int maxLength, PartnerCall call) : FrameStream
{
    protected override async ValueTask<byte[]?> NextFrameAsync(CancellationToken cancellationToken)
    {
        IMessage request;
        byte[] canonical;
        try
        {
            if (await FrameReader.ReadAsync(inbound, maxLength, cancellationToken) is not { } read)
            {
                return null;
            }
            request = CanonicalRequest.Parse(access.Method.InputType, FrameReader.Plain(read, maxLength));
            canonical = CanonicalRequest.Frame(request, maxLength);
        }
        catch (RpcException) when (call.Deadline.IsCancellationRequested)
        {
            // The call is ending anyway (the gateway stopping, the deadline, the caller gone): a body cut off
            // mid-frame by that is no fault of the partner's, and the call's own ending decides the status.
            throw new OperationCanceledException(call.Deadline.Token);
        }
        catch (RpcException e)
        {
            // A length prefix past the limit, a bad flag, a message that does not inflate or parse: the partner
            // hears that status and it is on record, not "service unreachable" from YARP's failed request body.
            throw CutOff(e.Status);
        }
        if (access.CheckRequest(request) is { } problem)
        {
            throw CutOff(new Status(StatusCode.PermissionDenied, problem));
        }
        // The message as checked, re-encoded: what the service reads is what passed.
        return canonical;
    }

    private IOException CutOff(Status refusal)
    {
        call.Refusal = refusal;
        // Failing the read makes YARP reset the service's stream: it must not take the cut-off stream as complete.
        return new IOException($"The request stream was cut off: {refusal.Detail}");
    }
}

/// <summary>
/// The service's answer as the partner may see it: each message inflated if need be, minimised by the
/// grant's response mask and sent uncompressed. A message that cannot be minimised is never sent: the
/// call then ends with INTERNAL. A stream that breaks or is cut short ends with a status, not a reset.
/// </summary>
internal sealed class MinimisedResponse(HttpContent upstream, ResponseMask mask, int maxLength, PartnerCall call, IDecisionAudit audit, TimeProvider clock) : HttpContent
{
    /// <summary>The reason on the record of a person an answer names other than the call's subject (a record beside the call's decision).</summary>
    public const string PersonFound = "The answer names this person.";

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        new MinimisingStream(PipeReader.Create(await upstream.ReadAsStreamAsync(cancellationToken)), mask, maxLength, call, audit, clock);

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await using var content = await CreateContentReadStreamAsync();
        await content.CopyToAsync(stream);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            upstream.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class MinimisingStream(PipeReader source, ResponseMask mask, int maxLength, PartnerCall call, IDecisionAudit audit, TimeProvider clock) : FrameStream
    {
        protected override async ValueTask<byte[]?> NextFrameAsync(CancellationToken cancellationToken)
        {
            try
            {
                if (await FrameReader.ReadAsync(source, maxLength, cancellationToken) is not { } frame)
                {
                    return null;
                }
                var plain = FrameReader.Plain(frame, maxLength);
                await RecordPersonsFoundAsync(plain);
                return FrameReader.Encode(mask.Apply(plain));
            }
            catch (AuditUnavailableException)
            {
                return End(new Status(StatusCode.Unavailable, "The answer could not be put on record, so it was withheld; try again."));
            }
            catch (Exception e) when (e is InvalidDataException or RpcException && call.CutShort() is { } ending)
            {
                // A frame cut off because the call is ending (the gateway stopping, the deadline): nothing unminimised
                // passes either way, and the partner hears why the call ended, as on the request side.
                return End(ending);
            }
            catch (Exception e) when (e is InvalidDataException or RpcException or InvalidProtocolBufferException)
            {
                // Not the contract's message, cut off inside a frame, oversized or not inflatable: never
                // pass on what could not be minimised.
                return End(new Status(StatusCode.Internal, "The service's answer could not be minimised, so it was withheld."));
            }
            catch (OperationCanceledException) when (call.CutShort() is { } status)
            {
                return End(status);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or HttpProtocolException && !call.CallerLeft.IsCancellationRequested)
            {
                return End(call.CutShort() ?? StatusOfBrokenStream(e));
            }
        }

        /// <summary>
        /// A lookup names no one in its request, and a read of a return case or placement names the case, yet
        /// each tells the caller about the persons its answer names: each is on record under their own pseudonym
        /// before the answer leaves, so their access report shows it.
        /// </summary>
        private async Task RecordPersonsFoundAsync(byte[] plain)
        {
            if (!SubjectPseudonym.MayNamePersons(mask.Type))
            {
                return;
            }
            // The subject the call names is on record under it already; anyone else the answer names is not,
            // and that includes the registration a read of a return case, placement or signal answers with.
            var found = SubjectPseudonym.FoundIn(mask.Type.Parser.ParseFrom(plain), asked: call.Subject);
            if (found.Count == 0)
            {
                return;
            }
            var now = clock.GetUtcNow();
            await Task.WhenAll(found.Select(person => audit.RecordAsync(
                call.Decision(now, allowed: true, PersonFound, call.Verdict!.Grant) with { SubjectPseudonym = person },
                call.Deadline.Token).AsTask()));
        }

        private byte[]? End(Status status)
        {
            call.Ending = status;
            return null;
        }

        protected override void Dispose(bool disposing)
        {
            // YARP disposes the stream it copied from, which is this one: the service's response stream must
            // go with it, or each call leaves it to the finalizer, which then contends for the connection's lock.
            if (disposing)
            {
                source.Complete();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>A service stream that broke mid-call: RST_STREAM codes map as the gRPC protocol says.</summary>
    public static Status StatusOfBrokenStream(Exception e)
    {
        var protocol = e as HttpProtocolException ?? e.InnerException as HttpProtocolException;
        return protocol?.ErrorCode switch
        {
            0x8 => new Status(StatusCode.Cancelled, "The service cancelled the call."),
            0x7 => new Status(StatusCode.Unavailable, "The service refused the call; try again."),
            0xb => new Status(StatusCode.ResourceExhausted, "The service is overloaded (ENHANCE_YOUR_CALM)."),
            _ => new Status(StatusCode.Unavailable, "The connection to the service broke during the call."),
        };
    }
}
