using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Messaging.Recovery;

/// <summary>
/// Ends the process when the bus stays unhealthy, or publishing keeps failing, longer than
/// <see cref="MessagingOptions.RecoveryTimeout"/>.
/// MassTransit 8.4 on RabbitMQ.Client 7 can keep handing its receive transport a connection the
/// broker already closed (a connection killed while a message was being handled); it then retries
/// forever without consuming. A fresh process always reconnects, and the outbox and inbox make a
/// restart lose and repeat nothing, so the watchdog exits with <see cref="ExitCode"/> and leaves the
/// restart to the supervisor (Kubernetes, compose, <c>./mesh up --real</c>).
/// </summary>
sealed class BusWatchdog(
    IBusControl bus,
    PublishHealth publishing,
    IProcessExit exit,
    IHostApplicationLifetime lifetime,
    IOptions<MessagingOptions> options,
    ILogger<BusWatchdog> logger,
    TimeProvider? clock = null) : BackgroundService
{
    /// <summary>EX_TEMPFAIL from sysexits.h: a temporary failure, try again.</summary>
    public const int ExitCode = 75;

    readonly TimeProvider _clock = clock ?? TimeProvider.System;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timeout = options.Value.RecoveryTimeout;
        var interval = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 5, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond));
        DateTimeOffset? unhealthySince = null;
        using var timer = new PeriodicTimer(interval, _clock);
        while (await WaitAsync(timer, stoppingToken))
        {
            var health = bus.CheckHealth();
            var now = _clock.GetUtcNow();
            if (health.Status == BusHealthStatus.Healthy)
            {
                unhealthySince = null;
            }
            else
            {
                unhealthySince ??= now;
            }

            var since = Earliest(unhealthySince, publishing.FailingSince);
            if (since is null || now - since.Value < timeout)
            {
                continue;
            }

            var endpoints = string.Join(", ", health.Endpoints.Where(e => e.Value.Status != BusHealthStatus.Healthy).Select(e => e.Key));
            logger.LogCritical(
                "The bus has not recovered for {Elapsed} (bus {Status}: {Description}; endpoints down: {Endpoints}; publishing failing since {PublishFailingSince}); " +
                "exiting with code {ExitCode} so the supervisor restarts this process",
                now - since.Value, health.Status, health.Description, endpoints, publishing.FailingSince, ExitCode);
            exit.Request(ExitCode, $"bus unhealthy since {since.Value:O}");
            lifetime.StopApplication();
            return;
        }
    }

    static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

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
