using Chain.Shelter.V1;
using Ketenmesh.Shelter.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// This replica's one reader of the capacity change log, for all its watches. It reads what came after the last
/// version it holds when this replica committed a change (<see cref="CapacityFeed"/>) and every
/// <see cref="CapacityWatchOptions.CatchUpInterval"/> (another replica may have), keeps the latest
/// <see cref="CapacityWatchOptions.WindowSize"/> versions in memory and wakes the watches. So the database is read
/// once per change and twice a second per replica, however many partners watch; before, every watch read it on
/// each change and at each interval, and a few hundred watches took every connection of the pool.
/// <para>
/// Versions commit in order (ADR 0014), so what it read is the log without a gap: the window holds every version
/// after <c>_floor</c> up to <c>_through</c>. A watch whose last version is older than the window reads the log
/// itself until it reaches the window (a resume), as every watch did before.
/// </para>
/// </summary>
public sealed class CapacityStream(IServiceScopeFactory scopes, CapacityFeed feed, IOptions<CapacityWatchOptions> options, ILogger<CapacityStream> logger)
    : BackgroundService
{
    private const int Batch = 500;

    private readonly Lock _gate = new();
    // The snapshots are shared by every watch: read-only once here.
    private readonly List<CapacitySnapshot> _window = [];
    private long _floor;
    private long _through;
    private bool _ready;
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// The changes after <paramref name="last"/> this replica holds, in order (empty when there are none yet), or null
    /// when <paramref name="last"/> is older than the window and the watch must read the log itself. Either way
    /// <c>Advanced</c> completes when more was read.
    /// </summary>
    public (List<CapacitySnapshot>? Changes, Task Advanced) After(long last)
    {
        lock (_gate)
        {
            if (!_ready || last < _floor)
            {
                return (null, _advanced.Task);
            }
            var skip = (int)Math.Min(last - _floor, _window.Count);
            return (_window.GetRange(skip, _window.Count - skip), _advanced.Task);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before reading: a commit between the read and the wait still wakes the reader.
            var committed = feed.NextChange;
            try
            {
                await ReadAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The watches wait, not fail: the next round reads on from where this one stopped.
                logger.LogError(e, "Reading the capacity change log failed; trying again in {Interval}.", options.Value.CatchUpInterval);
            }
            await Task.WhenAny(committed, Task.Delay(options.Value.CatchUpInterval, stoppingToken));
        }
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ShelterDbContext>();
        if (!_ready)
        {
            // The committed head is the last committed change: everything after it is yet to come, and read as it does.
            var head = await db.CapacityHead.AsNoTracking().SingleAsync(cancellationToken);
            lock (_gate)
            {
                _floor = _through = head.Version;
                _ready = true;
                Wake();
            }
        }
        var board = scope.ServiceProvider.GetRequiredService<CapacityBoard>();
        while (true)
        {
            var changes = await board.ChangesAfterAsync(_through, Batch, cancellationToken);
            if (changes.Count == 0)
            {
                return;
            }
            // A purge that deleted some this reader had not read yet (it was stopped longer than the retention) leaves
            // a hole: committed versions are otherwise one after another (ADR 0014). Only then is the head read, after
            // the changes as a watch does, and the window starts again above what was purged. A report's watchers are
            // woken without that extra round trip.
            var purged = Contiguous(_through, changes) ? 0 : await db.CapacityHead.AsNoTracking().Select(h => h.PurgedThrough).SingleAsync(cancellationToken);
            lock (_gate)
            {
                if (purged > _through)
                {
                    // Holes below it: nothing read up to it counts. The window starts again above it (a watch that is
                    // older reads the log itself, and is refused there as purged).
                    _window.Clear();
                    _floor = _through = purged;
                    Wake();
                    continue;
                }
                _window.AddRange(changes);
                _through = changes[^1].Version;
                var excess = _window.Count - Math.Max(1, options.Value.WindowSize);
                if (excess > 0)
                {
                    _floor = _window[excess - 1].Version;
                    _window.RemoveRange(0, excess);
                }
                Wake();
            }
            if (changes.Count < Batch)
            {
                return;
            }
        }
    }

    /// <summary>True when <paramref name="changes"/> are the versions right after <paramref name="through"/>, without a hole.</summary>
    internal static bool Contiguous(long through, List<CapacitySnapshot> changes)
    {
        var expected = through;
        foreach (var change in changes)
        {
            if (change.Version != ++expected)
            {
                return false;
            }
        }
        return true;
    }

    private void Wake()
    {
        var advanced = _advanced;
        _advanced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        advanced.TrySetResult();
    }
}
