using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Persistence.Migrations;

/// <summary>Applies the pending migrations of one DbContext; also callable by hand (tools, tests).</summary>
public sealed class SchemaMigrator<TContext>(
    IServiceScopeFactory scopes,
    IOptions<SchemaMigrationOptions<TContext>> options,
    ILogger<SchemaMigrator<TContext>> logger)
    where TContext : DbContext
{
    /// <returns>The ids applied by this call; empty when the database was already current.</returns>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        return await SchemaMigrationRunner.RunAsync(context, options.Value.Migrations, logger, cancellationToken);
    }
}

/// <summary>
/// The migration algorithm: one transaction per run, so a failing migration leaves the database at
/// the version it had (both SQLite and PostgreSQL have transactional DDL).
/// </summary>
public static class SchemaMigrationRunner
{
    public const string HistoryTable = "schema_history";

    // ASCII "KETENSCH". Fixed rather than per context: any two processes migrating the same
    // PostgreSQL database queue behind each other, whichever contexts they carry.
    const long PostgresLockKey = 0x4B4554454E534348;

    public static async Task<IReadOnlyList<string>> RunAsync(
        DbContext context,
        IReadOnlyList<SchemaMigration> migrations,
        ILogger logger,
        CancellationToken cancellationToken = default)
    {
        var provider = context.Database.GetChainProvider();
        var database = context.Database;
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            if (provider == DatabaseProvider.Sqlite)
            {
                // Persistent per file and impossible inside a transaction. WAL lets the outbox
                // dispatcher read while a handler writes.
                await using var pragma = connection.CreateCommand();
                pragma.CommandText = "PRAGMA journal_mode=WAL;";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }

            // SQLite: BEGIN IMMEDIATE takes the write lock now, which serialises concurrent runners.
            await using var transaction = await database.BeginTransactionAsync(cancellationToken);
            var step = new MigrationStep(context, connection, transaction.GetDbTransaction(), provider);
            if (provider == DatabaseProvider.Postgres)
            {
                // Released at commit or rollback, also when the process dies mid-run.
                await step.ExecuteAsync($"SELECT pg_advisory_xact_lock({PostgresLockKey});", cancellationToken);
            }

            await step.ExecuteAsync(CreateHistoryTableSql(provider), cancellationToken);
            var applied = await ReadHistoryAsync(step, cancellationToken);

            var pending = migrations.Where(m => !applied.Contains(m.Id)).ToList();
            foreach (var migration in pending)
            {
                logger.LogInformation("Applying schema migration {MigrationId} to {Context}", migration.Id, context.GetType().Name);
                await migration.ApplyAsync(step, cancellationToken);
                await RecordAsync(step, migration.Id, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);

            var unknown = applied.Except(migrations.Select(m => m.Id)).ToList();
            if (unknown.Count > 0)
            {
                // Expected during a rolling upgrade (a newer instance got there first); alarming otherwise.
                logger.LogWarning("Database of {Context} has migrations this build does not know: {MigrationIds}", context.GetType().Name, unknown);
            }

            return pending.Select(m => m.Id).ToList();
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    static string CreateHistoryTableSql(DatabaseProvider provider) => provider == DatabaseProvider.Postgres
        ? $"CREATE TABLE IF NOT EXISTS {HistoryTable} (migration_id text PRIMARY KEY, applied_at timestamptz NOT NULL);"
        : $"CREATE TABLE IF NOT EXISTS {HistoryTable} (migration_id TEXT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL);";

    static async Task<HashSet<string>> ReadHistoryAsync(MigrationStep step, CancellationToken cancellationToken)
    {
        await using var command = step.Connection.CreateCommand();
        command.Transaction = step.Transaction;
        command.CommandText = $"SELECT migration_id FROM {HistoryTable};";
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    static async Task RecordAsync(MigrationStep step, string id, CancellationToken cancellationToken)
    {
        await using var command = step.Connection.CreateCommand();
        command.Transaction = step.Transaction;
        command.CommandText = $"INSERT INTO {HistoryTable} (migration_id, applied_at) VALUES (@id, @applied_at);";
        var idParameter = command.CreateParameter();
        idParameter.ParameterName = "id";
        idParameter.Value = id;
        command.Parameters.Add(idParameter);
        var appliedAt = command.CreateParameter();
        appliedAt.ParameterName = "applied_at";
        appliedAt.Value = DateTime.UtcNow;
        command.Parameters.Add(appliedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
