using Ketenmesh.Testing;

namespace Ketenmesh.Signals.Tests;

/// <summary>
/// Watches across replicas on PostgreSQL, which keeps timestamps to the microsecond: a change heard live
/// and read back from the database must still be recognised as one change.
/// </summary>
public sealed class PostgresWatchTests : IAsyncLifetime
{
    private TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync("signals");

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private Dictionary<string, string?> Settings()
    {
        var settings = _database.Settings("Database");
        settings["Messaging:Transport"] = "InMemory";
        return settings;
    }

    [Fact]
    public async Task A_watch_on_one_replica_hears_news_consumed_by_another_and_hears_it_once_on_PostgreSQL()
    {
        await using var watched = await SignalsHost.StartAsync(Settings());
        await using var other = await SignalsHost.StartAsync(Settings());
        await FeedbackTests.WatchAcrossReplicasAsync(watched, other);
    }
}
