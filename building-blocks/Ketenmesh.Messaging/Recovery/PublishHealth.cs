namespace Ketenmesh.Messaging.Recovery;

/// <summary>
/// Whether the outbox dispatchers of this process can currently publish. A component without
/// consumers has no receive endpoint whose health would show a lost broker; its failing publishes do.
/// </summary>
public sealed class PublishHealth(TimeProvider? clock = null)
{
    readonly TimeProvider _clock = clock ?? TimeProvider.System;
    long _failingSinceTicks;

    /// <summary>When the current run of failed publishes began; null while publishing works.</summary>
    public DateTimeOffset? FailingSince
    {
        get
        {
            var ticks = Interlocked.Read(ref _failingSinceTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public void Failed() => Interlocked.CompareExchange(ref _failingSinceTicks, _clock.GetUtcNow().UtcTicks, 0);

    public void Succeeded() => Interlocked.Exchange(ref _failingSinceTicks, 0);
}
