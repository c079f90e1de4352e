using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Messaging.Outbox;

/// <summary>
/// Wakes the dispatcher of one DbContext right after a commit that wrote outbox rows. Holds at most
/// one pending wake-up: many commits during one batch cost one extra pass, and none is ever lost.
/// </summary>
public sealed class OutboxSignal<TContext>
    where TContext : DbContext
{
    readonly Channel<bool> _wakeUps = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    public void Notify() => _wakeUps.Writer.TryWrite(true);

    /// <returns>True when woken, false when the poll interval passed.</returns>
    public async Task<bool> WaitAsync(TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        if (_wakeUps.Reader.TryRead(out _))
        {
            return true;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(pollInterval);
        try
        {
            await _wakeUps.Reader.ReadAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
