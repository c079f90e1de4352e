using Ketenmesh.Hosting;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Registry.Domain;

/// <summary>How long the registry keeps the signals it has heard of but not registered from (pending_signals).</summary>
public sealed class PendingSignalOptions
{
    /// <summary>
    /// A signal kept on file, undecided, from the last news of it: a re-assessment within this time may still
    /// register it; after it, the signal is forgotten here (the signal service keeps the signal itself).
    /// </summary>
    public TimeSpan OnFileRetention { get; set; } = TimeSpan.FromDays(365);

    /// <summary>A decided signal, so a late copy of its news within this time changes nothing.</summary>
    public TimeSpan DecidedRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often to purge; zero switches the purge off.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>Deletes pending signals past their retention (<see cref="PendingSignalOptions"/>), at start and then every <see cref="PendingSignalOptions.PurgeInterval"/>.</summary>
public sealed class PendingSignalPurge(IServiceScopeFactory scopes, IOptions<PendingSignalOptions> options, TimeProvider clock, ILogger<PendingSignalPurge> logger)
    : PeriodicJob(scopes, clock, logger)
{
    protected override TimeSpan Interval => options.Value.PurgeInterval;

    protected override string Name => "Pending signal purge";

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow().UtcDateTime;
        var onFileCutoff = now - options.Value.OnFileRetention;
        var decidedCutoff = now - options.Value.DecidedRetention;
        var purged = await services.GetRequiredService<RegistryDbContext>().PendingSignals
            .Where(p => (p.Decided && p.ChangedAt < decidedCutoff) || (!p.Decided && p.ChangedAt < onFileCutoff))
            .ExecuteDeleteAsync(cancellationToken);
        if (purged > 0)
        {
            Logger.LogInformation("Purged {Count} pending signals past their retention.", purged);
        }
    }
}
