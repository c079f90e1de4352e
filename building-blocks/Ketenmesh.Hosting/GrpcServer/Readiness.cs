using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// grpc.health.v1 from Grpc.AspNetCore.HealthChecks: the empty name and every gRPC service the process
/// maps are SERVING only while every readiness check (tag <see cref="Persistence.Readiness.Tag"/>: the
/// component's database, MassTransit's bus, not draining) is healthy. <c>liveness</c> runs only a check that
/// always passes: it is SERVING while the process answers at all, so k8s restarts a process that hangs, not one whose
/// database is down.
/// </summary>
internal sealed class HealthServiceMapping(ServiceCatalog catalog) : IPostConfigureOptions<GrpcHealthChecksOptions>
{
    public void PostConfigure(string? name, GrpcHealthChecksOptions options)
    {
        options.Services.Clear();
        options.Services.Map("", IsReadiness);
        options.Services.Map(ProcessHealth.LivenessService, check => check.Name == ProcessHealth.AliveCheck);
        foreach (var service in catalog.Services.Select(s => s.Service.FullName).Distinct())
        {
            options.Services.Map(service, IsReadiness);
        }
    }

    private static bool IsReadiness(HealthCheckMapContext check) => check.Tags.Contains(Persistence.Readiness.Tag);
}

/// <summary>The process's own health, for a component (the gateway) that answers grpc.health.v1 itself.</summary>
public static class ProcessHealth
{
    /// <summary>SERVING while the process answers at all; the k8s livenessProbe asks for it.</summary>
    public const string LivenessService = "liveness";

    /// <summary>
    /// The one check behind <see cref="LivenessService"/>: it always passes, so the answer is SERVING while
    /// the process answers at all (a name with no check at all would answer UNKNOWN, which probes treat as failed).
    /// </summary>
    public const string AliveCheck = "alive";

    /// <summary>Every readiness check healthy: the process's database, bus, and not draining.</summary>
    public static async Task<bool> IsReadyAsync(HealthCheckService health, CancellationToken cancellationToken) =>
        (await health.CheckHealthAsync(check => check.Tags.Contains(Persistence.Readiness.Tag), cancellationToken)).Status == HealthStatus.Healthy;
}

/// <summary>Not ready once the host is stopping, so probes stop sending traffic while calls drain.</summary>
internal sealed class DrainingCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("draining: the component is stopping")
            : HealthCheckResult.Healthy());
}
