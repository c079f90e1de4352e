using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Ketenmesh.Persistence;

/// <summary>
/// Per-connection SQLite settings for the embedded profile, where a consumer, a dispatcher and a
/// request may write the same file at once.
/// </summary>
sealed class SqliteConnectionTuning : DbConnectionInterceptor
{
    public static readonly SqliteConnectionTuning Instance = new();

    // busy_timeout: SQLite's own busy handler retries within milliseconds; without it
    // Microsoft.Data.Sqlite sleeps 150 ms per retry, which turns any write contention into latency.
    // synchronous=NORMAL: with WAL the database stays consistent after a crash; only the last
    // commits before a power cut can be lost, in exchange for no fsync on every commit.
    const string Pragmas = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
