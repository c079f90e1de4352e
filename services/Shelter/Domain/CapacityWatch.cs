using System.Runtime.CompilerServices;
using Chain.Shelter.V1;
using Ketenmesh.Domain;
using Ketenmesh.Shelter.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Shelter.Domain;

/// <summary>How a capacity watch keeps up with changes committed by other replicas.</summary>
public sealed class CapacityWatchOptions
{
    /// <summary>How often the replica reads the change log when it committed nothing (another replica may have).</summary>
    public TimeSpan CatchUpInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How many of the latest changes the replica keeps in memory for its watches (<see cref="CapacityStream"/>); a
    /// watch further behind reads the change log itself until it has caught up.
    /// </summary>
    public int WindowSize { get; set; } = 1000;

    /// <summary>
    /// How long capacity changes are kept for watches to resume from. Older ones are purged, each shelter's latest
    /// change excepted; a watch resumed from before the purge is refused (FAILED_PRECONDITION) and starts afresh.
    /// </summary>
    public TimeSpan ChangeRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often changes older than <see cref="ChangeRetention"/> are purged; zero or less switches the purge off.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Purges capacity changes older than <see cref="CapacityWatchOptions.ChangeRetention"/>, every <see cref="CapacityWatchOptions.PurgeInterval"/>.</summary>
public sealed class CapacityLogPurge(IServiceScopeFactory scopes, TimeProvider clock, ILogger<CapacityLogPurge> logger, IOptions<CapacityWatchOptions> options)
    : Ketenmesh.Hosting.PeriodicJob(scopes, clock, logger)
{
    protected override TimeSpan Interval => options.Value.PurgeInterval;

    protected override string Name => "Capacity change log purge";

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var before = PlacementRow.Moment(Clock.GetUtcNow() - options.Value.ChangeRetention);
        var purged = await services.GetRequiredService<CapacityBoard>().PurgeChangesAsync(before, cancellationToken);
        if (purged > 0)
        {
            Logger.LogInformation("Purged {Count} capacity changes older than {Retention}.", purged, options.Value.ChangeRetention);
        }
    }
}

/// <summary>
/// Every capacity change in version order: a watch that read up to version N is given what comes after N, so it
/// never skips or repeats a change, whichever replica committed it and however often it reconnects. Recent changes
/// come from this replica's <see cref="CapacityStream"/>, which reads the change log once for every watch; a watch
/// resumed from further back reads the log itself until it has caught up.
/// </summary>
public sealed class CapacityWatch(CapacityBoard board, ShelterDbContext db, CapacityStream stream, IOptions<CapacityWatchOptions> options)
{
    private const int Batch = 500;

    /// <param name="resumeAfter">0: first every shelter's current capacity (initial), then each change.</param>
    /// <param name="live">Called once the watch is sure to hear every later change.</param>
    public async IAsyncEnumerable<(CapacitySnapshot Snapshot, bool Initial)> ChangesAsync(long resumeAfter, Func<Task> live, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long last;
        if (resumeAfter == 0)
        {
            var current = await CurrentAsync(cancellationToken);
            last = current.Count == 0 ? 0 : current.Max(s => s.Version);
            await live();
            foreach (var snapshot in current)
            {
                yield return (snapshot, true);
            }
        }
        else
        {
            var head = await db.CapacityHead.AsNoTracking().SingleAsync(cancellationToken);
            if (resumeAfter < 0 || resumeAfter > head.Version)
            {
                throw new InvalidRequest("resume_after_version is no version this service handed out.", [("resume_after_version", "pass the highest CapacitySnapshot.version received, or 0 to start afresh")]);
            }
            if (resumeAfter < head.PurgedThrough)
            {
                throw Purged(head.PurgedThrough);
            }
            last = resumeAfter;
            await live();
        }
        while (!cancellationToken.IsCancellationRequested)
        {
            // Taken with what the stream holds: whatever it reads after this wakes the watch.
            var (recent, advanced) = stream.After(last);
            var changes = recent ?? await ReadBehindAsync(last, cancellationToken);
            foreach (var change in changes)
            {
                last = change.Version;
                yield return (change, false);
            }
            if (changes.Count == 0 || (recent is null && changes.Count < Batch))
            {
                await advanced.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>The changes after <paramref name="last"/> from the log itself, for a watch older than the stream's window.</summary>
    private async Task<List<CapacitySnapshot>> ReadBehindAsync(long last, CancellationToken cancellationToken)
    {
        var changes = await board.ChangesAfterAsync(last, Batch, cancellationToken);
        // Read after the changes: a purge that committed before that read shows here, so none went missing unnoticed.
        if (changes.Count > 0 && await db.CapacityHead.AsNoTracking().Select(h => h.PurgedThrough).SingleAsync(cancellationToken) is var purged && purged > last)
        {
            throw Purged(purged);
        }
        return changes;
    }

    /// <summary>The changes after the version asked for are purged in part: resuming from it would skip them.</summary>
    private NotNow Purged(long purgedThrough) => new(
        $"Capacity changes up to version {purgedThrough} are no longer kept (the log keeps {options.Value.ChangeRetention.TotalDays:0.##} days); " +
        $"resume from a version no older than {purgedThrough}, or from 0 to start again from every shelter's current capacity.");

    /// <summary>
    /// Every shelter's capacity as one consistent state (one transaction): each shelter's version is its last
    /// change, so the highest of them is where the change log takes over.
    /// </summary>
    private async Task<List<CapacitySnapshot>> CurrentAsync(CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var current = await board.CurrentAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return current;
    }
}
