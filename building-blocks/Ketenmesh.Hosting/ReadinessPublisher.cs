using Ketenmesh.Grpc.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Ketenmesh.Hosting;

/// <summary>
/// Turns the readiness checks (each component's database, MassTransit's bus) into grpc.health.v1: every
/// service of the process, and the empty name, is SERVING only while all of them are healthy. Liveness
/// is left alone (see <see cref="HealthStatusRegistry.LivenessService"/>).
/// </summary>
internal sealed class ReadinessPublisher(HealthStatusRegistry health, IHostApplicationLifetime lifetime, ILogger<ReadinessPublisher> logger) : IHealthCheckPublisher
{
    private ServingStatus? _last;

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        // Before the host has started, its bus and migrations are still starting: a report then would say
        // NOT_SERVING for a component that is about to be ready (and was checked ready on its way up). While
        // draining everything stays NOT_SERVING (set at ApplicationStopping), whatever a late check says.
        if (!lifetime.ApplicationStarted.IsCancellationRequested || lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        var status = report.Status == HealthStatus.Healthy ? ServingStatus.Serving : ServingStatus.NotServing;
        if (status != _last)
        {
            var failing = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => $"{e.Key} ({e.Value.Description ?? e.Value.Status.ToString()})");
            logger.LogInformation("Readiness {Status}{Failing}", status, status == ServingStatus.Serving ? "" : ": " + string.Join(", ", failing));
            _last = status;
        }

        foreach (var service in health.Services.Where(s => s != HealthStatusRegistry.LivenessService))
        {
            health.SetStatus(service, status);
        }

        return Task.CompletedTask;
    }
}
