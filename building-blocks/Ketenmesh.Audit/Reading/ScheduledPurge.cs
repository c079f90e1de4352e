using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Audit.Reading;

/// <summary>
/// Runs the retention purge when the log starts and then every <c>Audit:PurgeInterval</c> (a day by
/// default; zero switches it off), so records do not outlive their retention because nobody ran it.
/// </summary>
public sealed class ScheduledPurge(IServiceScopeFactory scopes, IOptions<AuditOptions> options, TimeProvider clock, ILogger<ScheduledPurge> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PurgeInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var purged = await scope.ServiceProvider.GetRequiredService<AuditRetention>().PurgeAsync(clock.GetUtcNow(), stoppingToken);
                if (purged > 0)
                {
                    logger.LogInformation("Purged the content of {Count} audit records past their retention.", purged);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The next round tries again; a purge that is late is no reason to stop the gateway.
                logger.LogError(e, "The scheduled audit purge failed.");
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
