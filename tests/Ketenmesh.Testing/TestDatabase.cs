using Npgsql;

namespace Ketenmesh.Testing;

/// <summary>A PostgreSQL database of its own per test and per service, dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    readonly string _adminConnectionString;

    TestDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(string purpose)
    {
        var server = new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres);
        var admin = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        var name = $"ketenmesh_test_{purpose}_{Guid.NewGuid():N}"[..48];
        await ExecuteAsync(admin, $"CREATE DATABASE \"{name}\"");
        var connectionString = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString;
        return new TestDatabase(admin, name, connectionString);
    }

    /// <summary>The section AddChainDbContext reads.</summary>
    public Dictionary<string, string?> Settings(string sectionName) => new()
    {
        [$"{sectionName}:Provider"] = "Postgres",
        [$"{sectionName}:ConnectionString"] = ConnectionString,
    };

    /// <summary>An outage as the component sees it: new connections are refused and open ones are ended.</summary>
    public async Task RefuseConnectionsAsync()
    {
        await ExecuteAsync(_adminConnectionString, $"ALTER DATABASE \"{Name}\" ALLOW_CONNECTIONS false");
        await ExecuteAsync(_adminConnectionString, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Name}'");
    }

    public Task AllowConnectionsAsync() => ExecuteAsync(_adminConnectionString, $"ALTER DATABASE \"{Name}\" ALLOW_CONNECTIONS true");

    static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(connection);
        }

        try
        {
            await ExecuteAsync(_adminConnectionString, $"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
        }
        catch (NpgsqlException)
        {
            // Unique names make a leftover harmless; the test's own outcome matters more.
        }
    }
}
