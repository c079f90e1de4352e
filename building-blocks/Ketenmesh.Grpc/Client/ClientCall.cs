using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Ketenmesh.Grpc.Protocol;

namespace Ketenmesh.Grpc.Client;

/// <summary>One call on one HTTP/2 stream, any shape: sends the request, reads messages and the final status.</summary>
internal sealed class ClientCall<TRequest, TResponse> : IDisposable
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private static readonly ProductInfoHeaderValue UserAgent = new("ketenmesh-grpc", "1.0");

    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CancellationTokenSource _cancellation;
    private readonly TaskCompletionSource<Metadata> _responseHeaders = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _hasDeadline;
    private readonly CancellationTokenSource? _deadlineTimer;
    private HttpResponseMessage? _response;
    private PipeMessageReader<TResponse>? _reader;
    private Status? _status;
    private Metadata? _trailers;

    public ClientCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        var parent = channel.Options.PropagateServerCallContext ? ServerCallContext.Current : null;
        var deadline = options.Deadline ?? DateTime.MaxValue;
        if (parent is not null && parent.Deadline < deadline)
        {
            deadline = parent.Deadline;
        }
        Options = options;
        Deadline = deadline;
        _hasDeadline = deadline != DateTime.MaxValue;
        var tokens = new List<CancellationToken>(3) { options.CancellationToken };
        if (parent is not null)
        {
            tokens.Add(parent.CancellationToken);
        }
        if (_hasDeadline)
        {
            var remaining = deadline - DateTime.UtcNow;
            _deadlineTimer = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            tokens.Add(_deadlineTimer.Token);
        }
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource([.. tokens]);
    }

    public CallOptions Options { get; }

    public DateTime Deadline { get; }

    public Task<Metadata> ResponseHeadersAsync => _responseHeaders.Task;

    public Status GetStatus() => _status ?? throw new InvalidOperationException("The call has not finished.");

    public Metadata GetTrailers() => _trailers ?? throw new InvalidOperationException("The call has not finished.");

    /// <summary>Sends the headers and request body; returns once the response headers are in.</summary>
    public async Task StartAsync(HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_channel.Address, _method.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        AddHeaders(request);
        try
        {
            _response = await _channel.Invoker.SendAsync(request, _cancellation.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw Fail(ex, "sending the request");
        }
        var headers = ToMetadata(_response.Headers);
        if (TryReadTrailersOnlyStatus(_response, out var status))
        {
            _status = status;
            _trailers = headers;
            _responseHeaders.TrySetResult(new Metadata());
            return;
        }
        _responseHeaders.TrySetResult(headers);
        var stream = await _response.Content.ReadAsStreamAsync(_cancellation.Token).ConfigureAwait(false);
        _response.Headers.TryGetValues(GrpcHeaders.Encoding, out var encodings);
        _reader = new PipeMessageReader<TResponse>(
            PipeReader.Create(stream), _method.ResponseParser, encodings?.FirstOrDefault(),
            _channel.Options.MaxReceiveMessageSize ?? int.MaxValue, StatusCode.Internal, _cancellation.Token);
    }

    /// <summary>The next response message, or null once the stream has ended with OK; a non-OK end throws.</summary>
    public async Task<TResponse?> ReadNextAsync(CancellationToken cancellationToken)
    {
        if (_reader is null)
        {
            ThrowIfNotOk();
            return null;
        }
        try
        {
            if (await _reader.MoveNext(Linked(cancellationToken)).ConfigureAwait(false))
            {
                return _reader.Current;
            }
        }
        catch (Exception ex)
        {
            throw Fail(ex, "reading the response");
        }
        FinishFromTrailers();
        ThrowIfNotOk();
        return null;
    }

    public async Task<TResponse> ReadSingleAsync()
    {
        var message = await ReadNextAsync(default).ConfigureAwait(false)
            ?? throw Finish(new Status(StatusCode.Internal, "The server ended a unary call with OK but sent no response message."));
        if (await ReadNextAsync(default).ConfigureAwait(false) is not null)
        {
            throw Finish(new Status(StatusCode.Internal, "The server sent more than one response message on a unary call."));
        }
        return message;
    }

    public HttpContent CreateUnaryContent(TRequest request) =>
        new FramedMessageContent(request, _channel.Options.CompressRequests, _channel.Options.MaxSendMessageSize);

    public RequestStreamContent CreateStreamingContent() =>
        new(_channel.Options.CompressRequests, _channel.Options.MaxSendMessageSize, _cancellation.Token);

    private int _disposed;

    public void Cancel()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            _cancellation.Cancel();
        }
    }

    public void Dispose()
    {
        // Disposing twice is allowed (IDisposable), e.g. a using block around an explicit early dispose.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _cancellation.Cancel();
        _response?.Dispose();
        _cancellation.Dispose();
        _deadlineTimer?.Dispose();
    }

    private CancellationToken Linked(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancellation.Token).Token : _cancellation.Token;

    private void AddHeaders(HttpRequestMessage request)
    {
        var headers = request.Headers;
        headers.TE.ParseAdd("trailers");
        headers.UserAgent.Add(UserAgent);
        headers.TryAddWithoutValidation(GrpcHeaders.AcceptEncoding, MessageCompression.AcceptedEncodings);
        if (_channel.Options.CompressRequests)
        {
            headers.TryAddWithoutValidation(GrpcHeaders.Encoding, MessageCompression.Gzip);
        }
        if (_hasDeadline)
        {
            headers.TryAddWithoutValidation(GrpcHeaders.Timeout, GrpcTimeout.Format(Deadline - DateTime.UtcNow));
        }
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            headers.TryAddWithoutValidation(GrpcHeaders.TraceParent, activity.Id);
            if (!string.IsNullOrEmpty(activity.TraceStateString))
            {
                headers.TryAddWithoutValidation(GrpcHeaders.TraceState, activity.TraceStateString);
            }
        }
        if (Options.Headers is { } metadata)
        {
            foreach (var entry in metadata)
            {
                headers.TryAddWithoutValidation(entry.Key, MetadataCodec.ToHeaderValue(entry));
            }
        }
    }

    private static bool TryReadTrailersOnlyStatus(HttpResponseMessage response, out Status status)
    {
        if (response.Headers.TryGetValues(GrpcHeaders.Status, out var codes))
        {
            status = ParseStatus(codes.FirstOrDefault(), response.Headers.TryGetValues(GrpcHeaders.Message, out var m) ? m.FirstOrDefault() : null);
            return true;
        }
        if (response.StatusCode != HttpStatusCode.OK)
        {
            status = new Status(HttpStatusMapping.ToStatusCode(response.StatusCode), $"The server answered HTTP {(int)response.StatusCode} without a gRPC status.");
            return true;
        }
        var contentType = response.Content.Headers.ContentType?.ToString();
        if (!GrpcHeaders.IsGrpcContentType(contentType))
        {
            status = new Status(StatusCode.Unknown, $"The server answered with Content-Type '{contentType}', not gRPC.");
            return true;
        }
        status = default;
        return false;
    }

    private static Status ParseStatus(string? code, string? message)
    {
        if (!int.TryParse(code, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            return new Status(StatusCode.Unknown, $"The server sent an unreadable grpc-status '{code}'.");
        }
        return new Status((StatusCode)value, message is null ? string.Empty : StatusMessageEncoding.Decode(message));
    }

    private void FinishFromTrailers()
    {
        var trailers = _response!.TrailingHeaders;
        _trailers = ToMetadata(trailers);
        _status = trailers.TryGetValues(GrpcHeaders.Status, out var codes)
            ? ParseStatus(codes.FirstOrDefault(), trailers.TryGetValues(GrpcHeaders.Message, out var m) ? m.FirstOrDefault() : null)
            : new Status(StatusCode.Internal, "The server ended the stream without a grpc-status trailer.");
    }

    private void ThrowIfNotOk()
    {
        if (_status is { StatusCode: not StatusCode.OK } status)
        {
            throw new RpcException(status, _trailers ?? new Metadata());
        }
    }

    private RpcException Finish(Status status)
    {
        _status = status;
        _trailers ??= new Metadata();
        _cancellation.Cancel();
        var exception = new RpcException(status, _trailers);
        if (_responseHeaders.TrySetException(exception))
        {
            _ = _responseHeaders.Task.Exception;
        }
        return exception;
    }

    /// <summary>Turns a transport failure into the status the caller would see from any gRPC client.</summary>
    private RpcException Fail(Exception ex, string during)
    {
        if (ex is RpcException rpc)
        {
            Finish(rpc.Status);
            return rpc;
        }
        if (_cancellation.IsCancellationRequested)
        {
            var deadlinePassed = _deadlineTimer is { IsCancellationRequested: true };
            var userCancelled = Options.CancellationToken.IsCancellationRequested;
            return Finish(deadlinePassed && !userCancelled
                ? new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.")
                : new Status(StatusCode.Cancelled, "The call was cancelled."));
        }
        return Finish(new Status(StatusCode.Unavailable, $"Error {during} to {_channel.Address}: {ex.Message}"));
    }

    private static Metadata ToMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            if (!GrpcHeaders.IsReserved(name) && !IsHttpHeader(name))
            {
                MetadataCodec.AddValues(metadata, name.ToLowerInvariant(), values.ToArray());
            }
        }
        return metadata;
    }

    private static bool IsHttpHeader(string name) =>
        name.Equals("date", StringComparison.OrdinalIgnoreCase) || name.Equals("server", StringComparison.OrdinalIgnoreCase);
}
