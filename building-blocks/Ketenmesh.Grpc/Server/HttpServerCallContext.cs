using System.Diagnostics;
using Google.Protobuf;
using Ketenmesh.Grpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Ketenmesh.Grpc.Server;

/// <summary>
/// One call on one HTTP/2 stream: owns the response, so that messages, headers, trailers and the
/// deadline's early end never write to it at the same time.
/// </summary>
internal sealed class HttpServerCallContext : ServerCallContext, IAsyncDisposable
{
    private readonly HttpContext _http;
    private readonly GrpcServerOptions _options;
    // Only a deadline can write to the response from another thread; without one, the call's own flow is the only writer.
    private readonly SemaphoreSlim? _responseGate;
    private readonly CancellationTokenSource? _deadlineSource;
    // Streams can outlive any sensible shutdown wait: for them the call also ends when the server stops.
    private readonly CancellationTokenSource? _callSource;
    private readonly CancellationToken _serverStopping;
    private readonly string? _requestEncoding;
    private Metadata? _requestHeaders;
    private Metadata? _responseTrailers;
    private Dictionary<object, object>? _userState;
    private CancellationTokenRegistration _deadlineRegistration;
    private Task? _deadlineEnding;
    private bool _completed;

    // Kestrel's HasStarted stays false while a unary response sits unflushed in the body writer.
    private bool _responseStarted;

    private HttpServerCallContext(HttpContext http, string method, GrpcServerOptions options, string? requestEncoding, bool compressResponses, TimeSpan? timeout, CancellationToken serverStopping)
    {
        _http = http;
        _options = options;
        Method = method;
        _requestEncoding = requestEncoding;
        CompressResponses = compressResponses;
        if (timeout is { } t)
        {
            Deadline = DateTime.UtcNow + t;
            _deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            _deadlineRegistration = _deadlineSource.Token.UnsafeRegister(static state => ((HttpServerCallContext)state!).OnCancelled(), this);
            _deadlineSource.CancelAfter(t);
            _responseGate = new SemaphoreSlim(1, 1);
        }
        else
        {
            Deadline = DateTime.MaxValue;
        }
        if (serverStopping.CanBeCanceled)
        {
            _serverStopping = serverStopping;
            _callSource = CancellationTokenSource.CreateLinkedTokenSource(_deadlineSource?.Token ?? http.RequestAborted, serverStopping);
        }
    }

    public override string Method { get; }

    public override string Peer
    {
        get
        {
            var connection = _http.Connection;
            return connection.RemoteIpAddress is null
                ? "unknown"
                : $"{(connection.RemoteIpAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4")}:{connection.RemoteIpAddress}:{connection.RemotePort}";
        }
    }

    public override DateTime Deadline { get; }

    public override Metadata RequestHeaders => _requestHeaders ??= MetadataCodec.FromHeaders(_http.Request.Headers);

    public override Metadata ResponseTrailers => _responseTrailers ??= new Metadata();

    /// <summary>Kestrel makes RequestAborted's token source on first use, so it is asked for only when the service wants it.</summary>
    public override CancellationToken CancellationToken => _callSource?.Token ?? _deadlineSource?.Token ?? _http.RequestAborted;

    /// <summary>For our own reads and flushes: Kestrel already ends them when the stream is reset.</summary>
    private CancellationToken IoToken => _deadlineSource?.Token ?? default;

    public override Status Status { get; set; } = Status.DefaultSuccess;

    public override IDictionary<object, object> UserState => _userState ??= [];

    internal bool CompressResponses { get; }

    internal string? RequestEncoding => _requestEncoding;

    internal bool DeadlineExceeded => _deadlineSource is { IsCancellationRequested: true } && !_http.RequestAborted.IsCancellationRequested;

    /// <summary>The call was cut short because the server is stopping, not by the client or its deadline.</summary>
    internal bool ServerStopping => _serverStopping.IsCancellationRequested && !_http.RequestAborted.IsCancellationRequested && !DeadlineExceeded;

    internal GrpcServerOptions Options => _options;

    internal int LocalPort => _http.Connection.LocalPort;

    internal HttpContext HttpContext => _http;

    /// <summary>Reads the call's protocol headers; a header we cannot honour ends the call before the service runs.</summary>
    /// <param name="serverStopping">Ends the call's token when the server stops; for streams only, which may never end by themselves.</param>
    public static HttpServerCallContext Create(HttpContext http, string method, GrpcServerOptions options, CancellationToken serverStopping = default)
    {
        var headers = http.Request.Headers;
        string? encoding = headers[GrpcHeaders.Encoding];
        if (encoding is not null && !MessageCompression.IsSupported(encoding))
        {
            http.Response.Headers[GrpcHeaders.AcceptEncoding] = MessageCompression.AcceptedEncodings;
            throw new RpcException(new Status(StatusCode.Unimplemented,
                $"Message encoding '{encoding}' is not supported; supported encodings are {MessageCompression.AcceptedEncodings}."));
        }
        TimeSpan? timeout = null;
        if (headers.TryGetValue(GrpcHeaders.Timeout, out var timeoutValue))
        {
            if (!GrpcTimeout.TryParse(timeoutValue, out var parsed))
            {
                throw new RpcException(new Status(StatusCode.Internal,
                    $"The grpc-timeout header '{timeoutValue}' is malformed; expected up to 8 digits and a unit H, M, S, m, u or n."));
            }
            timeout = parsed;
        }
        var accepted = headers[GrpcHeaders.AcceptEncoding];
        var wanted = options.ResponseCompression
            ?? (encoding is not null && encoding.Equals(MessageCompression.Gzip, StringComparison.OrdinalIgnoreCase) ? MessageCompression.Gzip : null);
        var compress = wanted is not null && wanted.Equals(MessageCompression.Gzip, StringComparison.OrdinalIgnoreCase)
            && MessageCompression.AcceptsGzip(accepted);
        return new HttpServerCallContext(http, method, options, encoding, compress, timeout, serverStopping);
    }

    public PipeMessageReader<T> CreateRequestReader<T>(MessageParser<T> parser)
        where T : class, IMessage<T> =>
        new(_http.Request.BodyReader, parser, _requestEncoding, _options.MaxReceiveMessageSize, StatusCode.InvalidArgument, IoToken);

    public override async Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        await EnterAsync(IoToken).ConfigureAwait(false);
        try
        {
            ThrowIfCompleted();
            if (_responseStarted)
            {
                throw new InvalidOperationException("Response headers can only be sent once per call.");
            }
            MetadataCodec.WriteTo(responseHeaders, _http.Response.Headers);
            PrepareResponseHeaders();
            await _http.Response.BodyWriter.FlushAsync(IoToken).ConfigureAwait(false);
        }
        finally
        {
            _responseGate?.Release();
        }
    }

    /// <summary>Writes one message; streams flush each one so the peer sees it at once, unary leaves it for the trailers' flush.</summary>
    public async Task WriteMessageAsync(IMessage message, bool flush)
    {
        await EnterAsync(IoToken).ConfigureAwait(false);
        try
        {
            ThrowIfCompleted();
            if (!_responseStarted)
            {
                PrepareResponseHeaders();
            }
            MessageFraming.WriteFrame(_http.Response.BodyWriter, message, CompressResponses, _options.MaxSendMessageSize);
            if (flush)
            {
                await _http.Response.BodyWriter.FlushAsync(IoToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _responseGate?.Release();
        }
    }

    /// <summary>Sends the status: in trailers after messages, or alone in the headers (trailers-only) when nothing was sent.</summary>
    public async Task EndCallAsync(Status status)
    {
        await EnterAsync(default).ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                return;
            }
            _completed = true;
            WriteStatus(_http.Response, status, _responseTrailers, trailersOnly: !_responseStarted);
        }
        finally
        {
            _responseGate?.Release();
        }
    }

    /// <summary>Writes a status as trailers, or as headers when the response has not started (trailers-only).</summary>
    public static void WriteStatus(HttpResponse response, Status status, Metadata? trailers, bool trailersOnly = true)
    {
        if (trailersOnly)
        {
            var headers = response.Headers;
            headers.ContentType = GrpcHeaders.ContentType;
            headers[GrpcHeaders.Status] = StatusCodeText(status.StatusCode);
            if (!string.IsNullOrEmpty(status.Detail))
            {
                headers[GrpcHeaders.Message] = StatusMessageEncoding.Encode(status.Detail);
            }
            if (trailers is not null)
            {
                MetadataCodec.WriteTo(trailers, headers);
            }
            return;
        }
        response.AppendTrailer(GrpcHeaders.Status, StatusCodeText(status.StatusCode));
        if (!string.IsNullOrEmpty(status.Detail))
        {
            response.AppendTrailer(GrpcHeaders.Message, StatusMessageEncoding.Encode(status.Detail));
        }
        if (trailers is not null)
        {
            foreach (var entry in trailers)
            {
                response.AppendTrailer(entry.Key, MetadataCodec.ToHeaderValue(entry));
            }
        }
    }

    /// <summary>Waits for a deadline's early end to finish: the response must not be touched after the request delegate returns.</summary>
    public async ValueTask DisposeAsync()
    {
        _callSource?.Dispose();
        if (_deadlineSource is not null)
        {
            _deadlineRegistration.Dispose();
            if (_deadlineEnding is not null)
            {
                await _deadlineEnding.ConfigureAwait(false);
            }
            _deadlineSource.Dispose();
        }
        _responseGate?.Dispose();
    }

    private Task EnterAsync(CancellationToken cancellationToken) => _responseGate?.WaitAsync(cancellationToken) ?? Task.CompletedTask;

    private void PrepareResponseHeaders()
    {
        _responseStarted = true;
        var headers = _http.Response.Headers;
        headers.ContentType = GrpcHeaders.ContentType;
        headers[GrpcHeaders.AcceptEncoding] = MessageCompression.AcceptedEncodings;
        if (CompressResponses)
        {
            headers[GrpcHeaders.Encoding] = MessageCompression.Gzip;
        }
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("The call has already ended (deadline exceeded or status sent); nothing more can be written.");
        }
    }

    /// <summary>On deadline, end the call right away with DEADLINE_EXCEEDED; the handler sees its token cancelled.</summary>
    private void OnCancelled()
    {
        if (!DeadlineExceeded)
        {
            return;
        }
        _deadlineEnding = Task.Run(async () =>
        {
            try
            {
                await EndCallAsync(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.")).ConfigureAwait(false);
                await _http.Response.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                // The call ended on its own at the same moment; its own status stands.
            }
        });
    }

    private static readonly string[] StatusCodeTexts = Enumerable.Range(0, 17).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static string StatusCodeText(StatusCode code) =>
        (int)code is >= 0 and < 17 ? StatusCodeTexts[(int)code] : ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
