using Ketenmesh.Hosting;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// Gives back beds whose hold ran out unconfirmed, and the places held for large groups whose shelter period is over,
/// every <see cref="PlacementOptions.ExpiryInterval"/>.
/// </summary>
public sealed class HoldExpiry(IServiceScopeFactory scopes, TimeProvider clock, ILogger<HoldExpiry> logger, IOptions<PlacementOptions> options)
    : PeriodicJob(scopes, clock, logger)
{
    protected override TimeSpan Interval => options.Value.ExpiryInterval;

    protected override string Name => "Placement hold expiry";

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var released = await services.GetRequiredService<Placements>().ExpireHoldsAsync(cancellationToken);
        if (released > 0)
        {
            Logger.LogInformation("Released {Count} expired bed hold(s).", released);
        }
        var groups = await services.GetRequiredService<LargeGroups>().ReleaseEndedAsync(cancellationToken);
        if (groups > 0)
        {
            Logger.LogInformation("Released the places of {Count} large group(s) whose shelter period ended.", groups);
        }
    }
}
