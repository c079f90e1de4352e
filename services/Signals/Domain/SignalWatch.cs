using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Chain.Signals.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Signals.Domain;

/// <summary>How a watch keeps up with changes committed by other replicas.</summary>
public sealed class SignalWatchOptions
{
    /// <summary>How often a watch reads the database for changes the live feed of this replica did not carry.</summary>
    public TimeSpan CatchUpInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How far back each read looks past the last change seen, for clocks of replicas that run a little behind.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long status changes are kept for watches to read back: a watch resumed with an older token
    /// hears only what is younger (its signals' current state is always in ListMySignals).
    /// </summary>
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>Deletes status changes older than <see cref="SignalWatchOptions.HistoryRetention"/>, once an hour.</summary>
public sealed class StatusHistoryPurge(IServiceScopeFactory scopes, TimeProvider clock, ILogger<StatusHistoryPurge> logger, Microsoft.Extensions.Options.IOptions<SignalWatchOptions> options)
    : Ketenmesh.Hosting.PeriodicJob(scopes, clock, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromHours(1);

    protected override string Name => "Signal status history purge";

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().UtcDateTime - options.Value.HistoryRetention;
        var db = services.GetRequiredService<Ketenmesh.Signals.Persistence.SignalsDbContext>();
        var purged = await db.StatusChanges.Where(c => c.ChangedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        if (purged > 0)
        {
            Logger.LogInformation("Purged {Count} signal status changes older than {Retention}.", purged, options.Value.HistoryRetention);
        }
    }
}

/// <summary>
/// The status changes of one partner's signals as they happen. The live feed is fast but only carries
/// the changes this replica committed; news about a signal may be consumed by another replica, so the
/// watch also reads the database every <see cref="SignalWatchOptions.CatchUpInterval"/>. A change
/// that arrives both ways is sent once.
/// </summary>
public sealed class SignalWatch(SignalIntake intake, SignalStatusFeed feed, Microsoft.Extensions.Options.IOptions<SignalWatchOptions> options)
{
    public async IAsyncEnumerable<SignalStatusChange> ChangesAsync(string partnerId, DateTime since, Func<Task> live, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = feed.Subscribe(partnerId);
        try
        {
            await live();
            var sent = new Dictionary<(string SignalId, long ChangedAt), DateTime>();
            var watermark = since;
            var nextRead = DateTime.MinValue;
            while (!cancellationToken.IsCancellationRequested)
            {
                if (DateTime.UtcNow >= nextRead)
                {
                    foreach (var read in await intake.ChangedSinceAsync(partnerId, watermark - options.Value.ClockSkew, cancellationToken))
                    {
                        if (Fresh(read) is { } change)
                        {
                            yield return change;
                        }
                    }
                    Forget();
                    nextRead = DateTime.UtcNow + options.Value.CatchUpInterval;
                }
                if (await NextLiveAsync(channel, nextRead - DateTime.UtcNow, cancellationToken) is { } liveChange && Fresh(liveChange) is { } fresh)
                {
                    yield return fresh;
                }
            }

            SignalStatusChange? Fresh(SignalStatusChange change)
            {
                var at = change.ChangedAt.ToDateTime();
                if (at <= since || !sent.TryAdd((change.SignalId, at.Ticks), at))
                {
                    return null;
                }
                if (at > watermark)
                {
                    watermark = at;
                }
                return change;
            }

            // What lies before every future read's window cannot come again.
            void Forget()
            {
                foreach (var key in sent.Where(s => s.Value < watermark - options.Value.ClockSkew - options.Value.ClockSkew).Select(s => s.Key).ToList())
                {
                    sent.Remove(key);
                }
            }
        }
        finally
        {
            feed.Unsubscribe(channel);
        }
    }

    private static async Task<SignalStatusChange?> NextLiveAsync(Channel<SignalStatusChange> channel, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (channel.Reader.TryRead(out var ready))
        {
            return ready;
        }
        if (wait <= TimeSpan.Zero)
        {
            return null;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await channel.Reader.WaitToReadAsync(timeout.Token) && channel.Reader.TryRead(out var change) ? change : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
