using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Ketenmesh.Gateway.Proxy.Wire;
using Ketenmesh.Policy.Masks;

namespace Ketenmesh.Gateway.Proxy;

/// <summary>
/// Carries an upstream answer back to the caller: headers, then each message minimised by the
/// grant's mask and flushed on its own (a stream is never held whole), then the trailers.
/// </summary>
internal sealed class ResponseRelay(HttpContext http, ResponseMask mask, int maxLength, bool streaming)
{
    public bool Started { get; private set; }

    private bool _ended;

    public async Task RelayAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            End(new Status(HttpStatusMapping.ToStatusCode(response.StatusCode), $"The service answered HTTP {(int)response.StatusCode} instead of gRPC."));
            return;
        }
        if (StatusOf(response.Headers) is { } trailersOnly)
        {
            // Trailers-only: relay it as such, with its metadata (rich error details included).
            TrustedHeaders.CopyResponse(response.Headers, http.Response.Headers);
            End(trailersOnly);
            return;
        }
        TrustedHeaders.CopyResponse(response.Headers, http.Response.Headers);
        http.Response.ContentType = GrpcHeaders.ContentType;
        if (streaming)
        {
            // A stream's caller may wait long for its first message: give it the headers now. A unary
            // answer sends them with its message, one write fewer.
            await http.Response.StartAsync(cancellationToken);
            // Starting only stages the headers; a watch whose first change is hours away needs them sent.
            await http.Response.BodyWriter.FlushAsync(cancellationToken);
        }
        Started = true;

        var body = PipeReader.Create(await response.Content.ReadAsStreamAsync(cancellationToken));
        var output = http.Response.BodyWriter;
        while (await FrameReader.ReadAsync(body, maxLength, cancellationToken) is { } frame)
        {
            var masked = mask.Apply(FrameReader.Plain(frame, maxLength));
            await output.WriteAsync(FrameReader.Encode(false, masked), cancellationToken);
        }
        if (StatusOf(response.TrailingHeaders) is not { } status)
        {
            // A stream the gateway itself is ending (shutdown, deadline) stops without trailers; the caller's
            // handler names that, not a broken service.
            cancellationToken.ThrowIfCancellationRequested();
            End(new Status(StatusCode.Internal, "The service ended the call without a status."));
            return;
        }
        foreach (var (name, values) in response.TrailingHeaders)
        {
            if (TrustedHeaders.IsForwardable(name))
            {
                foreach (var value in values)
                {
                    http.Response.AppendTrailer(name, value);
                }
            }
        }
        End(status);
    }

    /// <summary>Ends the call with <paramref name="status"/>: trailers-only when nothing was sent yet.</summary>
    public void End(Status status)
    {
        if (_ended)
        {
            return;
        }
        _ended = true;
        GrpcStatusWriter.Write(http.Response, status, trailersOnly: !Started);
    }

    private static Status? StatusOf(HttpHeaders headers)
    {
        if (!headers.TryGetValues(GrpcHeaders.Status, out var codes))
        {
            return null;
        }
        var code = int.TryParse(codes.FirstOrDefault(), out var number) && number is >= 0 and <= 16 ? (StatusCode)number : StatusCode.Unknown;
        var message = headers.TryGetValues(GrpcHeaders.Message, out var messages) ? StatusMessageEncoding.Decode(messages.First()) : "";
        return new Status(code, message);
    }

    /// <summary>An upstream stream that broke mid-call: RST_STREAM codes map as the gRPC protocol says.</summary>
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
