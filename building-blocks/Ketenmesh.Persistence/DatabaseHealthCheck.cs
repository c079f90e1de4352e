using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ketenmesh.Persistence;

/// <summary>The tag every readiness check carries (MassTransit tags its bus check the same); liveness runs none of them.</summary>
public static class Readiness
{
    public const string Tag = "ready";
}

/// <summary>
/// Readiness: the component's database answers a round trip. A component that cannot reach its
/// database can accept nothing durably, so it must not be sent traffic (grpc.health.v1 NOT_SERVING).
/// </summary>
public sealed class DatabaseHealthCheck<TContext>(IServiceScopeFactory scopes) : IHealthCheck
    where TContext : DbContext
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<TContext>().Database;
        try
        {
            return await database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"{typeof(TContext).Name}: the database does not answer");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The reason only, never the connection string.
            return HealthCheckResult.Unhealthy($"{typeof(TContext).Name}: {exception.GetType().Name}");
        }
    }
}
