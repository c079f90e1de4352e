using Chain.Events.V1;
using Chain.Shelter.V1;
using Grpc.Core;
using Ketenmesh.Shelter.Domain;
using Ketenmesh.Shelter.Persistence;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Shelter.Tests.ShelterHost;

namespace Ketenmesh.Shelter.Tests;

/// <summary>
/// What the shelter service no longer works with is purged after its retention (<see cref="ShelterRetentionOptions"/>), on a
/// moved clock: requests that never became a stay and closed registrations' admission facts after 30 days, ended
/// large-group arrangements 90 days after their period, ended stays after a year; what is still going on stays.
/// </summary>
public abstract class RetentionScenarios : IAsyncLifetime
{
    private readonly MovableClock _clock = new(DateTimeOffset.UtcNow);
    private readonly ShelterEvents _events = new();
    private ComponentHost _host = null!;

    private ChannelBase Client => _host.Channel;

    protected abstract Task<Dictionary<string, string?>> DatabaseSettingsAsync();

    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var settings = await DatabaseSettingsAsync();
        // Purges often, so a moved clock is noticed within a test.
        settings["Shelter:Retention:PurgeInterval"] = "00:00:00.200";
        _host = await ShelterHost.StartAsync(settings, _clock, _events);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await DropDatabaseAsync();
    }

    private async Task<T> ReadAsync<T>(Func<ShelterDbContext, Task<T>> read)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<ShelterDbContext>());
    }

    private Task<List<string>> PlacementIdsAsync() => ReadAsync(db => db.Placements.Select(p => p.PlacementId).ToListAsync());

    private Task<List<string>> FactsAsync() => ReadAsync(db => db.AdmissionFacts.Select(f => f.RegistrationId).ToListAsync());

    private Task<List<string>> ArrangementIdsAsync() => ReadAsync(db => db.LargeGroups.Select(g => g.ArrangementId).ToListAsync());

    private async Task<Placement> DecideAsync(Placement placement, PlacementState state) =>
        (await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest { PlacementId = placement.PlacementId, NewState = state, ExpectedVersion = placement.Version },
            As(state == PlacementState.Cancelled ? "comensha" : placement.ShelterId))).Placement;

    private async Task KnownAsync(string registrationId, bool closed)
    {
        await _host.PublishAsync(new RegistrationAdmissionFacts { EventId = Guid.NewGuid().ToString(), RegistrationId = registrationId, Version = 1, InReflectionPeriod = true, Closed = closed });
        await Eventually.SucceedsAsync(async () => Assert.Contains(registrationId, await FactsAsync()));
    }

    [Fact]
    public async Task Finished_placements_closed_registrations_facts_and_ended_large_groups_are_purged_after_their_retention()
    {
        var retention = new ShelterRetentionOptions();
        await ReportAsync(Client, "shelter-jade", Beds(ShelterCategory.AdultMen, 10, 0));
        var stay = await DecideAsync((await Client.Shelter().RequestPlacementAsync(Placement("ret-stay", ShelterCategory.AdultMen, "reg-ret-stay"), As("comensha"))).Placement, PlacementState.Placed);
        var ended = await DecideAsync(stay, PlacementState.Ended);
        var cancelled = await DecideAsync((await Client.Shelter().RequestPlacementAsync(Placement("ret-cancel", ShelterCategory.AdultMen, "reg-ret-cancel"), As("comensha"))).Placement, PlacementState.Cancelled);
        var placed = await DecideAsync((await Client.Shelter().RequestPlacementAsync(Placement("ret-placed", ShelterCategory.AdultMen, "reg-ret-placed"), As("comensha"))).Placement, PlacementState.Placed);
        await KnownAsync("reg-ret-closed", closed: true);
        await KnownAsync("reg-ret-open", closed: false);
        var group = (await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("ret-raid", _clock.GetUtcNow().AddHours(1), TimeSpan.FromDays(2), "GM0114", (ShelterCategory.AdultMen, 1)), As("inspectorate"))).Arrangement;
        _clock.Advance(TimeSpan.FromDays(3));
        await EventuallyAsync(() => _events.GroupReleased.FirstOrDefault(e => e.ArrangementId == group.ArrangementId));

        // 31 days after the cancelled request and the closure were recorded: both go, nothing else does.
        _clock.Advance(retention.UnplacedPlacementRetention - TimeSpan.FromDays(2));
        await Eventually.SucceedsAsync(async () =>
        {
            Assert.DoesNotContain(cancelled.PlacementId, await PlacementIdsAsync());
            Assert.DoesNotContain("reg-ret-closed", await FactsAsync());
        });
        Assert.Equal([ended.PlacementId, placed.PlacementId], (await PlacementIdsAsync()).Order());
        Assert.Contains(group.ArrangementId, await ArrangementIdsAsync());

        // 90 days after the group's shelter period: the arrangement and the places it held go.
        _clock.Advance(retention.EndedLargeGroupRetention - retention.UnplacedPlacementRetention + TimeSpan.FromDays(2));
        await Eventually.SucceedsAsync(async () => Assert.Empty(await ArrangementIdsAsync()));
        Assert.Equal(0, await ReadAsync(db => db.LargeGroupAllocations.CountAsync()));
        Assert.Contains(ended.PlacementId, await PlacementIdsAsync());

        // A year after the stay ended: it goes; the stay still going and the open registration's facts stay.
        _clock.Advance(retention.EndedPlacementRetention - retention.EndedLargeGroupRetention);
        await Eventually.SucceedsAsync(async () => Assert.DoesNotContain(ended.PlacementId, await PlacementIdsAsync()));
        Assert.Equal([placed.PlacementId], await PlacementIdsAsync());
        Assert.Equal(["reg-ret-open"], await FactsAsync());
        Assert.Equal(PlacementState.Ended, ended.State);
        Assert.Equal(PlacementState.Cancelled, cancelled.State);
    }

    private static async Task<T> EventuallyAsync<T>(Func<T?> find) where T : class
    {
        T? found = null;
        await Eventually.SucceedsAsync(() =>
        {
            found = find();
            Assert.NotNull(found);
            return Task.CompletedTask;
        });
        return found!;
    }
}

public sealed class SqliteRetentionTests : RetentionScenarios
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-shelter-").FullName;

    protected override Task<Dictionary<string, string?>> DatabaseSettingsAsync() => Task.FromResult(ComponentHost.EmbeddedSettings(new ShelterComponent(), _directory));

    protected override Task DropDatabaseAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class PostgresRetentionTests : RetentionScenarios
{
    private TestDatabase _database = null!;

    protected override async Task<Dictionary<string, string?>> DatabaseSettingsAsync()
    {
        _database = await TestDatabase.CreateAsync("shelter");
        return _database.Settings("Database");
    }

    protected override async Task DropDatabaseAsync() => await _database.DisposeAsync();
}
