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
    // synchronous=FULL: an accepted signal is answered only after its commit reached the disk, so
    // not even a power cut right after the answer loses it (NORMAL in WAL mode could).
    const string Pragmas = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = FULL;";

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
