using System.Threading.Channels;
using Chain.Policy.V1;
using Ketenmesh.SharingPolicy.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.SharingPolicy.Domain;

/// <summary>
/// The latest publication and everyone watching for the next one. A publication made here is
/// announced at once; one made by another instance of this service is found by a poll every second,
/// so a gateway watching any instance follows within the 2 s the chain promises.
/// </summary>
public sealed class PublishedPolicies(IServiceScopeFactory scopes, ILogger<PublishedPolicies> logger) : BackgroundService
{
    private readonly object _gate = new();
    private readonly List<Channel<PolicySnapshot>> _watchers = [];
    private PolicySnapshot? _current;

    public async Task<PolicySnapshot> CurrentAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _current) is { } current)
        {
            return current;
        }
        var latest = await LoadLatestAsync(cancellationToken);
        Announce(latest);
        return latest;
    }

    /// <summary>Every snapshot from now on, until the reader is done with it.</summary>
    public ChannelReader<PolicySnapshot> Subscribe(out Action unsubscribe)
    {
        var channel = Channel.CreateBounded<PolicySnapshot>(new BoundedChannelOptions(4) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_gate)
        {
            _watchers.Add(channel);
        }
        unsubscribe = () =>
        {
            lock (_gate)
            {
                _watchers.Remove(channel);
            }
        };
        return channel.Reader;
    }

    /// <summary>Makes <paramref name="snapshot"/> current if it is newer, and tells every watcher.</summary>
    public void Announce(PolicySnapshot snapshot)
    {
        lock (_gate)
        {
            if (_current is not null && _current.Revision >= snapshot.Revision)
            {
                return;
            }
            _current = snapshot;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(snapshot);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Announce(await LoadLatestAsync(stoppingToken));
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
            {
                logger.LogWarning("Cannot read the latest publication: {Error}", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task<PolicySnapshot> LoadLatestAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SharingPolicyDbContext>();
        var latest = await db.Publications.AsNoTracking().OrderByDescending(p => p.Revision).FirstOrDefaultAsync(cancellationToken);
        return latest is null ? new PolicySnapshot() : PolicySnapshot.Parser.ParseFrom(latest.Snapshot);
    }
}
