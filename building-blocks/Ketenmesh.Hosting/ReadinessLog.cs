using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Hosting;

/// <summary>
/// Logs each change of readiness once, with the failing checks' reasons; grpc.health.v1 itself comes from
/// Grpc.AspNetCore.HealthChecks (see <see cref="GrpcServer.HealthServiceMapping"/>).
/// </summary>
internal sealed class ReadinessLog(IHostApplicationLifetime lifetime, ILogger<ReadinessLog> logger) : IHealthCheckPublisher
{
    private HealthStatus? _last;

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        // Before the host has started its bus and migrations are still on their way up; while stopping,
        // draining is expected. Neither is news.
        if (!lifetime.ApplicationStarted.IsCancellationRequested || lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }
        var status = report.Status == HealthStatus.Healthy ? HealthStatus.Healthy : HealthStatus.Unhealthy;
        if (status != _last)
        {
            var failing = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => $"{e.Key} ({e.Value.Description ?? e.Value.Status.ToString()})");
            logger.LogInformation("Readiness {Status}{Failing}", status == HealthStatus.Healthy ? "SERVING" : "NOT_SERVING",
                status == HealthStatus.Healthy ? "" : ": " + string.Join(", ", failing));
            _last = status;
        }
        return Task.CompletedTask;
    }
}
