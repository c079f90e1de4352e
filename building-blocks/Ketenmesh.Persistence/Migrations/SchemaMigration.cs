using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Persistence.Migrations;

/// <summary>
/// One versioned change to a database schema. Written by hand because the mesh has no
/// <c>dotnet ef</c>; applied once per database and recorded in <c>schema_history</c>.
/// </summary>
public sealed class SchemaMigration
{
    readonly Func<MigrationStep, CancellationToken, Task> _apply;

    SchemaMigration(string id, Func<MigrationStep, CancellationToken, Task> apply)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        Id = id;
        _apply = apply;
    }

    /// <summary>Unique within a database; never change it once released, history matches on it.</summary>
    public string Id { get; }

    /// <summary>The same SQL on both profiles (keep to the common subset of SQLite and PostgreSQL).</summary>
    public static SchemaMigration Sql(string id, string sql) => Sql(id, sqlite: sql, postgres: sql);

    /// <summary>SQL per profile, for types and features the two databases spell differently.</summary>
    public static SchemaMigration Sql(string id, string sqlite, string postgres) =>
        new(id, (step, ct) => step.ExecuteAsync(step.Provider == DatabaseProvider.Postgres ? postgres : sqlite, ct));

    /// <summary>A step in C#, for data changes that SQL alone expresses badly (backfills, reshaping).</summary>
    public static SchemaMigration Code(string id, Func<MigrationStep, CancellationToken, Task> apply) => new(id, apply);

    internal Task ApplyAsync(MigrationStep step, CancellationToken cancellationToken) => _apply(step, cancellationToken);

    public override string ToString() => Id;
}

/// <summary>What a migration step may use: everything it does joins the run's single transaction.</summary>
public sealed class MigrationStep
{
    internal MigrationStep(DbContext context, DbConnection connection, DbTransaction transaction, DatabaseProvider provider)
    {
        Context = context;
        Connection = connection;
        Transaction = transaction;
        Provider = provider;
    }

    public DatabaseProvider Provider { get; }

    /// <summary>Enlisted in the transaction, so EF queries and SaveChanges here commit with the migration.</summary>
    public DbContext Context { get; }

    public DbConnection Connection { get; }

    public DbTransaction Transaction { get; }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        await using var command = Connection.CreateCommand();
        command.Transaction = Transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
