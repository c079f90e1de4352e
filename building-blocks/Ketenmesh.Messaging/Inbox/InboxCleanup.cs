using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Messaging.Inbox;

/// <summary>
/// Deletes inbox rows older than <see cref="InboxOptions.RetentionPeriod"/>. A row only has to outlive
/// every copy of its message: redeliveries come within the broker's delivery limit and outbox repeats
/// within the dispatcher's retries, both far shorter than the retention period.
/// </summary>
sealed class InboxCleanup<TContext>(IServiceScopeFactory scopes, IOptions<MessagingOptions> options, ILogger<InboxCleanup<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    readonly InboxOptions _options = options.Value.Inbox;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.CleanupInterval);
        do
        {
            try
            {
                await DeleteExpiredAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The next round tries again; a failed purge only means rows live a little longer.
                logger.LogWarning(exception, "Purging the inbox of {Context} failed", typeof(TContext).Name);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    internal async Task<int> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        var cutoff = DateTime.UtcNow - _options.RetentionPeriod;
        await using var scope = scopes.CreateAsyncScope();
        var deleted = await scope.ServiceProvider.GetRequiredService<TContext>().Set<InboxMessage>()
            .Where(m => m.ReceivedAt < cutoff)
            .ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            logger.LogDebug("Deleted {Count} inbox rows of {Context} received before {Cutoff}", deleted, typeof(TContext).Name, cutoff);
        }

        return deleted;
    }

    static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
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
