using Ketenmesh.Hosting;
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
public sealed class ReflectionPeriodWatch(IServiceScopeFactory scopes, IOptions<ReflectionOptions> options, TimeProvider clock, ILogger<ReflectionPeriodWatch> logger)
    : PeriodicJob(scopes, clock, logger)
{
    protected override TimeSpan Interval => options.Value.CheckInterval;

    protected override string Name => "Looking at reflection periods";

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var (reminded, expired) = await services.GetRequiredService<ReflectionReminders>().RunAsync(options.Value.ReminderDays, cancellationToken);
        if (reminded + expired > 0)
        {
            Logger.LogInformation("Reflection periods: {Reminded} reminded, {Expired} expired.", reminded, expired);
        }
    }
}
