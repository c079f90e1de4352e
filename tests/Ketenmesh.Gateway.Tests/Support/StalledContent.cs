using System.Net;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>
/// A request body that sends its first bytes and then nothing, until the test lets it go: a client that
/// stalls, or holds a call open on purpose. <see cref="Sent"/> completes once the bytes are on the wire.
/// </summary>
sealed class StalledContent(byte[] start, CancellationToken release) : HttpContent
{
    private readonly TaskCompletionSource _sent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Sent => _sent.Task;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(start, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        _sent.TrySetResult();
        using var both = CancellationTokenSource.CreateLinkedTokenSource(release, cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, both.Token);
        }
        catch (OperationCanceledException)
        {
            // Released or abandoned: the body just ends, still inside its frame.
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
