using Chain.Events.V1;
using Chain.Shelter.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Registry.Domain;
using Ketenmesh.Registry.Persistence;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>
/// The registry remembers a released placement only until no confirmation of it can still be under way
/// (<see cref="PlacementReleaseOptions.Retention"/>, 30 days), on SQLite and on PostgreSQL, on a moved clock.
/// </summary>
public abstract class PlacementReleaseRetentionTests : IAsyncLifetime
{
    private readonly MovableClock _clock = new(DateTimeOffset.UtcNow);
    private ComponentHost _host = null!;

    protected abstract Task<Dictionary<string, string?>> DatabaseSettingsAsync();

    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var settings = await DatabaseSettingsAsync();
        settings["Messaging:Transport"] = "InMemory";
        // Purges often, so a moved clock's purge happens within a test.
        settings["Registry:PlacementReleases:PurgeInterval"] = "00:00:00.100";
        _host = await ComponentHost.StartAsync(new RegistryComponent(), settings, (services, _) => services.AddSingleton<TimeProvider>(_clock));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await DropDatabaseAsync();
    }

    private async Task ReleasedAsync(string registrationId, string placementId)
    {
        var messageId = Guid.NewGuid();
        await _host.PublishAsync(new PlacementReleased
        {
            EventId = Guid.NewGuid().ToString(),
            OccurredAt = Timestamp.FromDateTimeOffset(_clock.GetUtcNow()),
            PlacementId = placementId,
            RegistrationId = registrationId,
            ShelterId = "shelter-jade",
            Category = ShelterCategory.Cosm,
            State = PlacementState.Expired,
        }, messageId);
        await Eventually.SucceedsAsync(async () => Assert.True(await ReadAsync(db => db.Set<InboxMessage>().AnyAsync(m => m.MessageId == messageId))));
    }

    private async Task<T> ReadAsync<T>(Func<RegistryDbContext, Task<T>> read)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<RegistryDbContext>());
    }

    private Task<List<string>> ReleasesAsync() => ReadAsync(db => db.PlacementReleases.Select(r => r.PlacementId).ToListAsync());

    [Fact]
    public async Task A_released_placement_is_forgotten_once_older_than_the_retention_and_a_newer_one_is_kept()
    {
        var registration = await RegisterAsync(_host.Channel, $"rel-{Guid.NewGuid():N}");
        await ReleasedAsync(registration.RegistrationId, "plc-old");
        _clock.Advance(TimeSpan.FromDays(20));
        await ReleasedAsync(registration.RegistrationId, "plc-new");
        Assert.Equal(["plc-new", "plc-old"], (await ReleasesAsync()).Order());

        _clock.Advance(new PlacementReleaseOptions().Retention - TimeSpan.FromDays(19));
        // One statement purges by age: once the old one is gone, the new one was looked at too.
        await Eventually.SucceedsAsync(async () => Assert.DoesNotContain("plc-old", await ReleasesAsync()));

        Assert.Equal(["plc-new"], await ReleasesAsync());
    }
}

public sealed class SqlitePlacementReleaseRetentionTests : PlacementReleaseRetentionTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-registry-").FullName;

    protected override Task<Dictionary<string, string?>> DatabaseSettingsAsync() => Task.FromResult(ComponentHost.EmbeddedSettings(new RegistryComponent(), _directory));

    protected override Task DropDatabaseAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class PostgresPlacementReleaseRetentionTests : PlacementReleaseRetentionTests
{
    private TestDatabase _database = null!;

    protected override async Task<Dictionary<string, string?>> DatabaseSettingsAsync()
    {
        _database = await TestDatabase.CreateAsync("registry");
        return _database.Settings("Database");
    }

    protected override async Task DropDatabaseAsync() => await _database.DisposeAsync();
}
