using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ketenmesh.Messaging.Recovery;

/// <summary>
/// The bus as a readiness check: ready only while MassTransit reports it Healthy. MassTransit's own check
/// answers Degraded while endpoints reconnect, and gRPC health treats Degraded as SERVING; a component
/// that cannot receive its events is not ready.
/// </summary>
internal sealed class BusReadiness(IBusControl bus) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = bus.CheckHealth();
        return Task.FromResult(health.Status == BusHealthStatus.Healthy
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"bus {health.Status}: {health.Description}"));
    }
}
