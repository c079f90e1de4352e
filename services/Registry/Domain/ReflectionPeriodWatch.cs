using Microsoft.Extensions.Options;

namespace Ketenmesh.Registry.Domain;

/// <summary>When to look at running reflection periods, and how long before the end to remind.</summary>
public sealed class ReflectionOptions
{
    /// <summary>Days before the last day on which ReflectionPeriodEnding is raised (police, IND and shelter act on it).</summary>
    public int ReminderDays { get; set; } = 14;

    /// <summary>How often to look; zero switches the watch off.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Runs <see cref="ReflectionReminders"/> at start and then every <see cref="ReflectionOptions.CheckInterval"/>.</summary>
public sealed class ReflectionPeriodWatch(IServiceScopeFactory scopes, IOptions<ReflectionOptions> options, TimeProvider clock, ILogger<ReflectionPeriodWatch> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.CheckInterval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Value.CheckInterval, clock);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var (reminded, expired) = await scope.ServiceProvider.GetRequiredService<ReflectionReminders>().RunAsync(options.Value.ReminderDays, stoppingToken);
                if (reminded + expired > 0)
                {
                    logger.LogInformation("Reflection periods: {Reminded} reminded, {Expired} expired.", reminded, expired);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The next round tries again; a late reminder is no reason to stop the registry.
                logger.LogError(e, "Looking at reflection periods failed.");
            }
        }
        while (await NextAsync(timer, stoppingToken));
    }

    private static async Task<bool> NextAsync(PeriodicTimer timer, CancellationToken stoppingToken)
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
