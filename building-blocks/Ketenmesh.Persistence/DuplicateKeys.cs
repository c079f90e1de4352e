using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Ketenmesh.Persistence;

/// <summary>
/// A save refused because another writer inserted the same key first: where the insert is the check
/// (idempotency keys, one-of-a-kind rows), the caller reads what the other writer stored instead of
/// failing. Other save failures are not this and must not be mistaken for it.
/// </summary>
public static class DuplicateKeys
{
    /// <summary>True when the save broke a primary key or unique index, on either database profile.</summary>
    public static bool IsDuplicateKey(this DbUpdateException exception) =>
        exception.GetBaseException() is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }
            or SqliteException { SqliteExtendedErrorCode: SqlitePrimaryKeyViolation or SqliteUniqueViolation };

    /// <summary>
    /// Runs a write whose insert is its check (an idempotency key, a one-of-a-kind row); when another writer inserted
    /// the same key first, the tracker is cleared and the write runs once more, to find and answer what that writer
    /// stored. Any other failed save is a failure, not retried.
    /// </summary>
    public static async Task<T> FirstWriterWinsAsync<T>(this DbContext db, Func<Task<T>> run)
    {
        try
        {
            return await run();
        }
        catch (DbUpdateException e) when (e.IsDuplicateKey())
        {
            db.ChangeTracker.Clear();
            return await run();
        }
    }

    // SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE; other constraints (NOT NULL, CHECK,
    // foreign keys) share the primary code SQLITE_CONSTRAINT and are not duplicates.
    private const int SqlitePrimaryKeyViolation = 1555;
    private const int SqliteUniqueViolation = 2067;
}
