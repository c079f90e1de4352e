using Ketenmesh.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Audit.Reading;

/// <summary>
/// Runs the retention purge when the log starts and then every <c>Audit:PurgeInterval</c> (a day by
/// default; zero switches it off), so records do not outlive their retention because nobody ran it.
/// </summary>
public sealed class ScheduledPurge(IServiceScopeFactory scopes, IOptions<AuditOptions> options, TimeProvider clock, ILogger<ScheduledPurge> logger)
    : PeriodicJob(scopes, clock, logger)
{
    protected override TimeSpan Interval => options.Value.PurgeInterval;

    protected override string Name => "The scheduled audit purge";

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var purged = await services.GetRequiredService<AuditRetention>().PurgeAsync(Clock.GetUtcNow(), cancellationToken);
        if (purged > 0)
        {
            Logger.LogInformation("Purged the content of {Count} audit records past their retention.", purged);
        }
    }
}
