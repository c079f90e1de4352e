using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Ketenmesh.Persistence;

/// <summary>The two database profiles of the mesh.</summary>
public enum DatabaseProvider
{
    /// <summary>Embedded profile: a file next to the service, nothing to install.</summary>
    Sqlite,

    /// <summary>Real profile: a PostgreSQL server shared by the instances of a service.</summary>
    Postgres,
}

public static class DatabaseProviderExtensions
{
    /// <summary>
    /// Which profile a context runs on, so building blocks can pick SQL and locking that suit it.
    /// </summary>
    public static DatabaseProvider GetChainProvider(this DatabaseFacade database)
    {
        if (database.IsNpgsql())
        {
            return DatabaseProvider.Postgres;
        }

        if (database.IsSqlite())
        {
            return DatabaseProvider.Sqlite;
        }

        throw new NotSupportedException($"Database provider '{database.ProviderName}' is not one of the mesh's profiles (Sqlite, Postgres).");
    }
}
