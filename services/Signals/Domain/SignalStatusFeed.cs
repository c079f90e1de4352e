using System.Collections.Concurrent;
using System.Threading.Channels;
using Chain.Signals.V1;

namespace Ketenmesh.Signals.Domain;

/// <summary>Live status changes per reporting partner, for WatchMySignals; only the partner's own signals.</summary>
public sealed class SignalStatusFeed
{
    private readonly ConcurrentDictionary<Channel<SignalStatusChange>, string> _watchers = new();

    public Channel<SignalStatusChange> Subscribe(string partnerId)
    {
        // A watcher that stops reading must not hold up intake: beyond its buffer the oldest changes go, and it can resume.
        var channel = Channel.CreateBounded<SignalStatusChange>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        _watchers[channel] = partnerId;
        return channel;
    }

    public void Unsubscribe(Channel<SignalStatusChange> channel) => _watchers.TryRemove(channel, out _);

    public void Publish(string partnerId, SignalStatusChange change)
    {
        foreach (var (channel, watcher) in _watchers)
        {
            if (watcher == partnerId)
            {
                channel.Writer.TryWrite(change);
            }
        }
    }
}
