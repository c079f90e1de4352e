using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Ketenmesh.Persistence;

/// <summary>The <c>Database</c> configuration section: which profile and where.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    public DatabaseProvider Provider { get; init; } = DatabaseProvider.Sqlite;

    public string ConnectionString { get; init; } = "";

    /// <summary>
    /// Reads and checks the section. A missing PostgreSQL connection string fails here, at startup,
    /// rather than on the first query; the embedded profile falls back to a file named after the context.
    /// </summary>
    public static DatabaseOptions FromConfiguration(IConfiguration section, string defaultDatabaseName)
    {
        var providerText = section["Provider"];
        var provider = DatabaseProvider.Sqlite;
        if (!string.IsNullOrWhiteSpace(providerText) && !Enum.TryParse(providerText, ignoreCase: true, out provider))
        {
            throw new InvalidOperationException(
                $"Database:Provider '{providerText}' is not supported; use '{DatabaseProvider.Sqlite}' (embedded) or '{DatabaseProvider.Postgres}' (real).");
        }

        var connectionString = section["ConnectionString"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = provider == DatabaseProvider.Sqlite
                ? $"Data Source={defaultDatabaseName}.db"
                : throw new InvalidOperationException("Database:ConnectionString is required for the Postgres provider.");
        }

        return new DatabaseOptions { Provider = provider, ConnectionString = connectionString };
    }

    public void Apply(DbContextOptionsBuilder builder)
    {
        switch (Provider)
        {
            case DatabaseProvider.Sqlite:
                EnsureSqliteDirectory(ConnectionString);
                builder.UseSqlite(ConnectionString).AddInterceptors(SqliteConnectionTuning.Instance);
                break;
            case DatabaseProvider.Postgres:
                builder.UseNpgsql(WithBoundedPool(ConnectionString));
                break;
            default:
                throw new NotSupportedException(Provider.ToString());
        }
    }

    /// <summary>
    /// Npgsql's default pool of 100 lets one busy service take every connection the server has; a
    /// burst beyond the pool waits for a free connection instead. An explicit size in the string wins.
    /// </summary>
    public const int DefaultMaxPoolSize = 32;

    static string WithBoundedPool(string connectionString)
    {
        var parsed = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var explicitSize = parsed.Keys.Cast<string>()
            .Any(key => key.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant() is "maxpoolsize" or "maximumpoolsize");
        return explicitSize
            ? connectionString
            : new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = DefaultMaxPoolSize }.ConnectionString;
    }

    // SQLite creates the file but not its directory; a fresh checkout would otherwise fail on "data/x.db".
    static void EnsureSqliteDirectory(string connectionString)
    {
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (string.IsNullOrEmpty(dataSource) || dataSource == ":memory:" || dataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }
}
