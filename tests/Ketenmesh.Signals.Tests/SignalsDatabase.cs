using Ketenmesh.Testing;

namespace Ketenmesh.Signals.Tests;

/// <summary>
/// The signal intake's database for one scenario class: embedded SQLite in a directory of its own, or a PostgreSQL
/// database of its own with the in-memory bus. A scenario runs on both by a subclass per provider.
/// </summary>
public abstract class SignalsDatabase : IAsyncDisposable
{
    public abstract Task<Dictionary<string, string?>> SettingsAsync();

    public abstract ValueTask DisposeAsync();

    public sealed class Sqlite : SignalsDatabase
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-signals-").FullName;

        public override Task<Dictionary<string, string?>> SettingsAsync() => Task.FromResult(ComponentHost.EmbeddedSettings(new SignalsComponent(), _directory));

        public override ValueTask DisposeAsync()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_directory, recursive: true);
            return ValueTask.CompletedTask;
        }
    }

    public sealed class Postgres : SignalsDatabase
    {
        private TestDatabase? _database;

        public override async Task<Dictionary<string, string?>> SettingsAsync()
        {
            _database = await TestDatabase.CreateAsync("signals");
            var settings = _database.Settings("Database");
            settings["Messaging:Transport"] = "InMemory";
            return settings;
        }

        public override async ValueTask DisposeAsync()
        {
            if (_database is not null)
            {
                await _database.DisposeAsync();
            }
        }
    }
}
