using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Persistence.Migrations;

/// <summary>
/// Migrates in <see cref="StartingAsync"/>, which the host runs before any hosted service's
/// StartAsync: the bus and the outbox dispatcher never meet a missing table.
/// </summary>
sealed class SchemaMigrationHostedService<TContext>(
    SchemaMigrator<TContext> migrator,
    IOptions<SchemaMigrationOptions<TContext>> options) : IHostedLifecycleService
    where TContext : DbContext
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (options.Value.ApplyAtStartup)
        {
            await migrator.MigrateAsync(cancellationToken);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
