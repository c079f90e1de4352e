using Ketenmesh.Hosting;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Registry.Domain;

/// <summary>How long the registry remembers a placement the shelter service released (placement_releases).</summary>
public sealed class PlacementReleaseOptions
{
    /// <summary>
    /// A release is remembered only so that the placement's confirmation, coming late on its own queue, records
    /// nothing (<see cref="ShelterPlacements"/>). That confirmation was sent before the release (a hold is confirmed
    /// or released within the shelter's hold time, hours), so once a release is older than any message lag, no such
    /// confirmation is still under way; every expired or declined hold adds a row, so they must not stay for ever.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often to purge; zero switches the purge off.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>Deletes placement releases past their retention (<see cref="PlacementReleaseOptions"/>), at start and then every <see cref="PlacementReleaseOptions.PurgeInterval"/>.</summary>
public sealed class PlacementReleasePurge(IServiceScopeFactory scopes, IOptions<PlacementReleaseOptions> options, TimeProvider clock, ILogger<PlacementReleasePurge> logger)
    : PeriodicJob(scopes, clock, logger)
{
    protected override TimeSpan Interval => options.Value.PurgeInterval;

    protected override string Name => "Placement release purge";

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().UtcDateTime - options.Value.Retention;
        // The table is small (a few thousand placements a year, a month kept): no index on released_at is needed.
        var purged = await services.GetRequiredService<RegistryDbContext>().PlacementReleases
            .Where(r => r.ReleasedAt < cutoff)
            .ExecuteDeleteAsync(cancellationToken);
        if (purged > 0)
        {
            Logger.LogInformation("Purged {Count} placement releases past their retention.", purged);
        }
    }
}
