using Chain.Shelter.V1;
using Google.Rpc;
using Grpc.Core;
using Ketenmesh.Shelter.Domain;
using Ketenmesh.Shelter.Persistence;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Shelter.Tests.ShelterHost;

namespace Ketenmesh.Shelter.Tests;

/// <summary>The shelter service's behaviour, run once on SQLite (embedded profile) and once on PostgreSQL (real profile).</summary>
public abstract class ShelterScenarios : IAsyncLifetime
{
    protected readonly MovableClock Clock = new(DateTimeOffset.UtcNow);
    protected readonly ShelterEvents Events = new();
    private readonly List<ComponentHost> _hosts = [];

    protected ComponentHost Host => _hosts[0];

    private ChannelBase Client => Host.Channel;

    /// <summary>Settings of a database every replica of this test shares.</summary>
    protected abstract Dictionary<string, string?> DatabaseSettings();

    protected virtual Task CreateDatabaseAsync() => Task.CompletedTask;

    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;

    protected async Task<ComponentHost> StartReplicaAsync()
    {
        var host = await ShelterHost.StartAsync(DatabaseSettings(), Clock, Events);
        _hosts.Add(host);
        return host;
    }

    public async Task InitializeAsync()
    {
        await CreateDatabaseAsync();
        await StartReplicaAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
        await DropDatabaseAsync();
    }

    [Fact]
    public async Task Shelter_reports_its_own_beds_and_every_report_is_a_new_version()
    {
        var before = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-acm" }, As("comensha"))).Overview.Capacity;

        var first = await ReportAsync(Client, "shelter-acm", Beds(ShelterCategory.Cosm, 25, 20));
        var second = await ReportAsync(Client, "shelter-acm", Beds(ShelterCategory.Cosm, 25, 21), Beds(ShelterCategory.AdultWomen, 4, 4));
        var read = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-acm" }, As("police"))).Overview;

        Assert.True(first.Version > before.Version);
        Assert.True(second.Version > first.Version);
        Assert.Equal(second.Version, read.Capacity.Version);
        var cosm = Assert.Single(read.Capacity.Beds, b => b.Category == ShelterCategory.Cosm);
        Assert.Equal((25, 21, 4), (cosm.TotalBeds, cosm.OccupiedBeds, cosm.AvailableBeds));
        Assert.Equal(0, Assert.Single(read.Capacity.Beds, b => b.Category == ShelterCategory.AdultWomen).AvailableBeds);
        Assert.Equal(ShelterKind.Cosm, read.Shelter.Kind);
        Assert.NotNull(read.Capacity.ReportedAt);
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Contains(Events.CapacityChanged, e => e.ShelterId == "shelter-acm" && e.Version == second.Version);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_shelter_reporting_for_another_shelter_is_refused_and_nothing_changes()
    {
        var before = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-acm" }, As("comensha"))).Overview.Capacity;

        var other = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().ReportCapacityAsync(new ReportCapacityRequest
        {
            ShelterId = "shelter-acm",
            ExpectedVersion = before.Version,
            Beds = { Beds(ShelterCategory.Cosm, 25, 0) },
        }, As("shelter-jade")).ResponseAsync);
        var notAShelter = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().ReportCapacityAsync(new ReportCapacityRequest
        {
            ExpectedVersion = before.Version,
            Beds = { Beds(ShelterCategory.Cosm, 25, 0) },
        }, As("police")).ResponseAsync);
        var after = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-acm" }, As("comensha"))).Overview.Capacity;

        Assert.Equal(StatusCode.PermissionDenied, other.StatusCode);
        Assert.DoesNotContain("shelter-acm", other.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.PermissionDenied, notAShelter.StatusCode);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task A_report_based_on_a_stale_version_is_aborted()
    {
        var read = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-pmw" }, As("shelter-pmw"))).Overview.Capacity;
        await Client.Shelter().ReportCapacityAsync(new ReportCapacityRequest { ExpectedVersion = read.Version, Beds = { Beds(ShelterCategory.Cosm, 25, 10) } }, As("shelter-pmw"));

        var stale = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().ReportCapacityAsync(
            new ReportCapacityRequest { ExpectedVersion = read.Version, Beds = { Beds(ShelterCategory.Cosm, 25, 3) } }, As("shelter-pmw")).ResponseAsync);
        var now = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-pmw" }, As("shelter-pmw"))).Overview.Capacity;

        Assert.Equal(StatusCode.Aborted, stale.StatusCode);
        Assert.Equal(10, Assert.Single(now.Beds, b => b.Category == ShelterCategory.Cosm).OccupiedBeds);
    }

    [Fact]
    public async Task A_report_describing_an_earlier_moment_than_the_stored_one_is_refused_and_nothing_changes()
    {
        var read = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-pmw" }, As("shelter-pmw"))).Overview.Capacity;
        var at = Clock.GetUtcNow();
        var later = (await Client.Shelter().ReportCapacityAsync(new ReportCapacityRequest
        {
            ExpectedVersion = read.Version, AsOf = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at), Beds = { Beds(ShelterCategory.Cosm, 25, 10) },
        }, As("shelter-pmw"))).Capacity;

        // Based on the current version, but counted a minute before what is stored: a report delivered late.
        var older = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().ReportCapacityAsync(new ReportCapacityRequest
        {
            ExpectedVersion = later.Version, AsOf = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at - TimeSpan.FromMinutes(1)), Beds = { Beds(ShelterCategory.Cosm, 25, 3) },
        }, As("shelter-pmw")).ResponseAsync);
        var stored = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-pmw" }, As("shelter-pmw"))).Overview.Capacity;
        var same = (await Client.Shelter().ReportCapacityAsync(new ReportCapacityRequest
        {
            ExpectedVersion = later.Version, AsOf = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at), Beds = { Beds(ShelterCategory.Cosm, 25, 11) },
        }, As("shelter-pmw"))).Capacity;

        Assert.Equal(StatusCode.FailedPrecondition, older.StatusCode);
        Assert.Equal(later, stored);
        Assert.Equal(11, Assert.Single(same.Beds, b => b.Category == ShelterCategory.Cosm).OccupiedBeds);
    }

    [Fact]
    public async Task A_report_describing_a_moment_in_the_future_is_refused_by_field_and_the_shelter_can_still_report()
    {
        var read = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-pmw" }, As("shelter-pmw"))).Overview.Capacity;
        var at = Clock.GetUtcNow();

        // A shelter system whose clock runs a day ahead: stored, every honest report after it would describe an earlier moment.
        var ahead = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().ReportCapacityAsync(new ReportCapacityRequest
        {
            ExpectedVersion = read.Version, AsOf = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at + TimeSpan.FromDays(1)), Beds = { Beds(ShelterCategory.Cosm, 25, 10) },
        }, As("shelter-pmw")).ResponseAsync);
        var slightlyAhead = (await Client.Shelter().ReportCapacityAsync(new ReportCapacityRequest
        {
            ExpectedVersion = read.Version, AsOf = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at + TimeSpan.FromMinutes(4)), Beds = { Beds(ShelterCategory.Cosm, 25, 11) },
        }, As("shelter-pmw"))).Capacity;
        Clock.Advance(TimeSpan.FromMinutes(5));
        var next = await ReportAsync(Client, "shelter-pmw", Beds(ShelterCategory.Cosm, 25, 12));

        Assert.Equal(StatusCode.InvalidArgument, ahead.StatusCode);
        Assert.Equal("as_of", Assert.Single(ahead.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        Assert.True(slightlyAhead.Version > read.Version);
        Assert.Equal(12, Assert.Single(next.Beds, b => b.Category == ShelterCategory.Cosm).OccupiedBeds);
    }

    [Fact]
    public async Task Bad_capacity_reports_are_refused_field_by_field()
    {
        var read = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-fier" }, As("shelter-fier"))).Overview.Capacity;

        var refused = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().ReportCapacityAsync(new ReportCapacityRequest
        {
            ExpectedVersion = read.Version,
            Beds =
            {
                Beds(ShelterCategory.Minors, -1, 0),
                Beds(ShelterCategory.AdultWomen, 3, 5),
                Beds(ShelterCategory.AdultMen, 2, 0),
                Beds(ShelterCategory.Minors, 4, -2),
            },
        }, As("shelter-fier")).ResponseAsync);
        var unversioned = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().ReportCapacityAsync(
            new ReportCapacityRequest { Beds = { Beds(ShelterCategory.Minors, 4, 1) } }, As("shelter-fier")).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        var fields = refused.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field).ToList();
        Assert.Equal(["beds[0].total_beds", "beds[1].occupied_beds", "beds[2].category", "beds[3].category", "beds[3].occupied_beds"], fields);
        Assert.Equal("expected_version", Assert.Single(unversioned.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        Assert.Equal(read, (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-fier" }, As("comensha"))).Overview.Capacity);
    }

    [Fact]
    public async Task Availability_is_found_by_category_and_region()
    {
        await ReportAsync(Client, "shelter-acm", Beds(ShelterCategory.Cosm, 25, 25));

        var cosm = await Client.Shelter().ListSheltersAsync(new ListSheltersRequest { CategoryFilter = { ShelterCategory.Cosm } }, As("police"));
        var amsterdam = await Client.Shelter().ListSheltersAsync(new ListSheltersRequest { CategoryFilter = { ShelterCategory.Cosm }, MunicipalityCodes = { "GM0363" } }, As("police"));
        var free = await Client.Shelter().ListSheltersAsync(new ListSheltersRequest { CategoryFilter = { ShelterCategory.Cosm }, OnlyAvailable = true }, As("police"));

        Assert.Equal(["shelter-acm", "shelter-jade", "shelter-pmw"], cosm.Shelters.Select(s => s.Shelter.ShelterId));
        Assert.Equal(70, cosm.Shelters.SelectMany(s => s.Capacity.Beds).Where(b => b.Category == ShelterCategory.Cosm).Sum(b => b.TotalBeds));
        Assert.Equal("shelter-acm", Assert.Single(amsterdam.Shelters).Shelter.ShelterId);
        Assert.Equal(["shelter-jade", "shelter-pmw"], free.Shelters.Select(s => s.Shelter.ShelterId));
    }

    /// <summary>The one bed left for adult men anywhere: both shelters offering it are full but for one bed at Jade.</summary>
    protected async Task OneAdultMensBedLeftAsync()
    {
        await ReportAsync(Client, "shelter-social-den-haag", Beds(ShelterCategory.AdultMen, 12, 12));
        await ReportAsync(Client, "shelter-jade", Beds(ShelterCategory.AdultMen, 1, 0));
    }

    [Fact]
    public async Task Two_hundred_parallel_requests_for_the_last_bed_hold_it_exactly_once()
    {
        await OneAdultMensBedLeftAsync();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Client.Shelter().RequestPlacementAsync(Placement($"race-{i}", ShelterCategory.AdultMen, $"reg-race-{i}"), As("comensha")).ResponseAsync));
        var jade = (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, As("comensha"))).Overview.Capacity;

        var held = Assert.Single(attempts, a => a.Placement.State == PlacementState.Held).Placement;
        Assert.Equal("shelter-jade", held.ShelterId);
        Assert.Equal(199, attempts.Count(a => a.Placement.State == PlacementState.Waitlisted));
        var men = Assert.Single(jade.Beds, b => b.Category == ShelterCategory.AdultMen);
        Assert.Equal((1, 0, 1, 0), (men.TotalBeds, men.OccupiedBeds, men.ReservedBeds, men.AvailableBeds));
    }

    [Fact]
    public async Task A_confirmed_hold_occupies_the_bed_and_ending_the_stay_frees_it()
    {
        await OneAdultMensBedLeftAsync();
        var held = (await Client.Shelter().RequestPlacementAsync(Placement("confirm-1", ShelterCategory.AdultMen, "reg-confirm"), As("comensha"))).Placement;

        var placed = (await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = held.PlacementId, NewState = PlacementState.Placed, ExpectedVersion = held.Version,
        }, As("shelter-jade"))).Placement;
        var occupied = Assert.Single((await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, As("comensha"))).Overview.Capacity.Beds, b => b.Category == ShelterCategory.AdultMen);
        var ended = (await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = held.PlacementId, NewState = PlacementState.Ended, ExpectedVersion = placed.Version,
        }, As("shelter-jade"))).Placement;
        var freed = Assert.Single((await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, As("comensha"))).Overview.Capacity.Beds, b => b.Category == ShelterCategory.AdultMen);

        Assert.Equal(PlacementState.Held, held.State);
        Assert.NotNull(held.HoldExpiresAt);
        Assert.Equal(PlacementState.Placed, placed.State);
        Assert.Null(placed.HoldExpiresAt);
        Assert.Equal((1, 0, 0), (occupied.OccupiedBeds, occupied.ReservedBeds, occupied.AvailableBeds));
        Assert.Equal(PlacementState.Ended, ended.State);
        Assert.Equal((0, 0, 1), (freed.OccupiedBeds, freed.ReservedBeds, freed.AvailableBeds));
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Contains(Events.Confirmed, e => e.PlacementId == held.PlacementId && e.RegistrationId == "reg-confirm" && e.ShelterId == "shelter-jade");
            Assert.Contains(Events.Released, e => e.PlacementId == held.PlacementId && e.State == PlacementState.Ended);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_hold_not_confirmed_in_time_expires_on_a_moved_clock_and_the_bed_is_free_again()
    {
        await OneAdultMensBedLeftAsync();
        var held = (await Client.Shelter().RequestPlacementAsync(Placement("expire-1", ShelterCategory.AdultMen, "reg-expire"), As("comensha"))).Placement;

        Clock.Advance(new PlacementOptions().HoldDuration + TimeSpan.FromMinutes(1));

        await Eventually.SucceedsAsync(async () =>
        {
            var placement = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = held.PlacementId }, As("comensha"))).Placement;
            Assert.Equal(PlacementState.Expired, placement.State);
        });
        var late = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = held.PlacementId, NewState = PlacementState.Placed, ExpectedVersion = held.Version + 1,
        }, As("shelter-jade")).ResponseAsync);
        var men = Assert.Single((await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, As("comensha"))).Overview.Capacity.Beds, b => b.Category == ShelterCategory.AdultMen);
        var next = (await Client.Shelter().RequestPlacementAsync(Placement("expire-2", ShelterCategory.AdultMen, "reg-expire-2"), As("comensha"))).Placement;

        Assert.Equal(StatusCode.FailedPrecondition, late.StatusCode);
        Assert.Equal((0, 1), (men.ReservedBeds, men.AvailableBeds));
        Assert.Equal(PlacementState.Held, next.State);
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Contains(Events.Released, e => e.PlacementId == held.PlacementId && e.State == PlacementState.Expired);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task Confirming_after_the_hold_ran_out_is_refused_even_before_the_expiry_job_ran()
    {
        await OneAdultMensBedLeftAsync();
        var held = (await Client.Shelter().RequestPlacementAsync(Placement("late-1", ShelterCategory.AdultMen, "reg-late"), As("comensha"))).Placement;
        await Host.DisposeAsync();
        _hosts.Clear();
        // The same database without the expiry job: only the confirmation itself can notice the time.
        var settings = DatabaseSettings();
        settings["Shelter:Placement:ExpiryInterval"] = "00:00:00";
        var replica = await ShelterHost.StartAsync(settings, Clock, Events);
        _hosts.Add(replica);
        Clock.Advance(new PlacementOptions().HoldDuration + TimeSpan.FromSeconds(1));

        var late = await Assert.ThrowsAsync<RpcException>(() => replica.Channel.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = held.PlacementId, NewState = PlacementState.Placed, ExpectedVersion = held.Version,
        }, As("shelter-jade")).ResponseAsync);
        var after = (await replica.Channel.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = held.PlacementId }, As("comensha"))).Placement;

        Assert.Equal(StatusCode.FailedPrecondition, late.StatusCode);
        Assert.Equal(PlacementState.Expired, after.State);
    }

    [Fact]
    public async Task A_shelter_sees_only_placements_in_its_own_beds_and_CoMensha_sees_all()
    {
        await OneAdultMensBedLeftAsync();
        var held = (await Client.Shelter().RequestPlacementAsync(Placement("see-1", ShelterCategory.AdultMen, "reg-see"), As("comensha"))).Placement;
        var request = new GetPlacementRequest { PlacementId = held.PlacementId };

        var own = (await Client.Shelter().GetPlacementAsync(request, As("shelter-jade"))).Placement;
        var coordinator = (await Client.Shelter().GetPlacementAsync(request, As("comensha"))).Placement;
        var other = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().GetPlacementAsync(request, As("shelter-acm")).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = "plc-none" }, As("shelter-acm")).ResponseAsync);
        var decide = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = held.PlacementId, NewState = PlacementState.Placed, ExpectedVersion = held.Version,
        }, As("shelter-acm")).ResponseAsync);

        Assert.Equal(held.PlacementId, own.PlacementId);
        Assert.Equal("reg-see", coordinator.RegistrationId);
        // Another shelter's placement and one that does not exist are answered alike.
        Assert.Equal(StatusCode.NotFound, other.StatusCode);
        Assert.Equal((unknown.StatusCode, unknown.Status.Detail), (other.StatusCode, other.Status.Detail));
        Assert.Equal((unknown.StatusCode, unknown.Status.Detail), (decide.StatusCode, decide.Status.Detail));
    }

    [Fact]
    public async Task A_shelter_lists_the_placements_in_its_own_beds_including_one_held_for_someone_from_a_waiting_list_and_CoMensha_lists_all()
    {
        await OneAdultMensBedLeftAsync();
        var first = (await Client.Shelter().RequestPlacementAsync(Placement("list-1", ShelterCategory.AdultMen, "reg-list-1"), As("comensha"))).Placement;
        var second = (await Client.Shelter().RequestPlacementAsync(Placement("list-2", ShelterCategory.AdultMen, "reg-list-2"), As("care"))).Placement;
        await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = first.PlacementId, NewState = PlacementState.Declined, ExpectedVersion = first.Version,
        }, As("shelter-jade"));

        // No answer to the shelter named the hold made for the second from the waiting list: it finds it by listing.
        var jadeHeld = await Client.Shelter().ListPlacementsAsync(new ListPlacementsRequest { StateFilter = { PlacementState.Held } }, As("shelter-jade"));
        var jadeAll = await Client.Shelter().ListPlacementsAsync(new ListPlacementsRequest(), As("shelter-jade"));
        var otherShelter = await Client.Shelter().ListPlacementsAsync(new ListPlacementsRequest(), As("shelter-acm"));
        var requester = await Client.Shelter().ListPlacementsAsync(new ListPlacementsRequest(), As("care"));
        var firstPage = await Client.Shelter().ListPlacementsAsync(new ListPlacementsRequest { PageSize = 1 }, As("comensha"));
        var secondPage = await Client.Shelter().ListPlacementsAsync(new ListPlacementsRequest { PageSize = 1, PageToken = firstPage.NextPageToken }, As("comensha"));
        var bad = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().ListPlacementsAsync(new ListPlacementsRequest { PageSize = -1, StateFilter = { PlacementState.Unspecified } }, As("comensha")).ResponseAsync);

        var offered = Assert.Single(jadeHeld.Placements);
        Assert.Equal((second.PlacementId, PlacementState.Held, "shelter-jade"), (offered.PlacementId, offered.State, offered.ShelterId));
        Assert.Equal([first.PlacementId, second.PlacementId], jadeAll.Placements.Select(p => p.PlacementId));
        Assert.Empty(otherShelter.Placements);
        Assert.Equal(second.PlacementId, Assert.Single(requester.Placements).PlacementId);
        Assert.Equal([first.PlacementId, second.PlacementId], firstPage.Placements.Concat(secondPage.Placements).Select(p => p.PlacementId));
        Assert.Empty(secondPage.NextPageToken);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal(["page_size", "state_filter"], bad.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field).Order());
    }

    [Fact]
    public async Task A_hold_offered_from_a_waiting_list_that_runs_out_puts_the_person_back_on_it_in_their_old_turn()
    {
        await OneAdultMensBedLeftAsync();
        var first = (await Client.Shelter().RequestPlacementAsync(Placement("back-1", ShelterCategory.AdultMen, "reg-back-1"), As("comensha"))).Placement;
        var second = (await Client.Shelter().RequestPlacementAsync(Placement("back-2", ShelterCategory.AdultMen, "reg-back-2"), As("comensha"))).Placement;
        var third = (await Client.Shelter().RequestPlacementAsync(Placement("back-3", ShelterCategory.AdultMen, "reg-back-3"), As("comensha"))).Placement;
        await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = first.PlacementId, NewState = PlacementState.Declined, ExpectedVersion = first.Version,
        }, As("shelter-jade"));
        var offered = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = second.PlacementId }, As("comensha"))).Placement;

        Clock.Advance(new PlacementOptions().HoldDuration + TimeSpan.FromMinutes(1));

        Assert.Equal((PlacementState.Held, "shelter-jade"), (offered.State, offered.ShelterId));
        await Eventually.SucceedsAsync(async () =>
        {
            var back = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = second.PlacementId }, As("comensha"))).Placement;
            Assert.Equal((PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter, ""), (back.State, back.WaitingList, back.ShelterId));
            Assert.Equal(second.RequestedAt, back.RequestedAt);
        });
        // The bed went to the next in line, not back to the one who let it run out; they are first for the next bed.
        var next = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = third.PlacementId }, As("comensha"))).Placement;
        var list = await Client.Shelter().ListWaitingListAsync(new ListWaitingListRequest { WaitingList = WaitingList.WomensOrSocialShelter }, As("comensha"));
        Assert.Equal((PlacementState.Held, "shelter-jade"), (next.State, next.ShelterId));
        Assert.Equal((second.PlacementId, 1), (Assert.Single(list.Entries).PlacementId, Assert.Single(list.Entries).Position));
        await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = third.PlacementId, NewState = PlacementState.Declined, ExpectedVersion = next.Version,
        }, As("shelter-jade"));
        var again = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = second.PlacementId }, As("comensha"))).Placement;
        Assert.Equal((PlacementState.Held, "shelter-jade"), (again.State, again.ShelterId));
    }

    [Fact]
    public async Task A_decision_the_caller_may_not_make_is_refused_without_waiting_for_the_capacity_turn()
    {
        await OneAdultMensBedLeftAsync();
        var held = (await Client.Shelter().RequestPlacementAsync(Placement("turn-1", ShelterCategory.AdultMen, "reg-turn-1"), As("comensha"))).Placement;
        await using var holder = Host.Services.CreateAsyncScope();
        await using var change = await holder.ServiceProvider.GetRequiredService<CapacityBoard>().BeginChangeAsync(CancellationToken.None);

        // Another change holds the turn: a shelter deciding on a bed not its own, and an unknown placement, are refused at once.
        var other = Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = held.PlacementId, NewState = PlacementState.Placed, ExpectedVersion = held.Version,
        }, As("shelter-acm")).ResponseAsync;
        var unknown = Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = "plc-none", NewState = PlacementState.Placed, ExpectedVersion = 1,
        }, As("shelter-acm")).ResponseAsync;
        var both = Task.WhenAll(other, unknown);
        var first = await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(10)));

        Assert.Same(both, first);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => other)).StatusCode);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => unknown)).StatusCode);
    }

    [Fact]
    public async Task Beds_a_report_frees_for_several_COSM_waiters_read_their_registry_facts_in_one_query()
    {
        var factsReads = new TableReads("admission_facts");
        var replica = await ShelterHost.StartAsync(DatabaseSettings(), Clock, Events, services => services.ConfigureDbContext<ShelterDbContext>(o => o.AddInterceptors(factsReads)));
        _hosts.Add(replica);
        await ReportAsync(replica.Channel, "shelter-pmw", Beds(ShelterCategory.Cosm, 25, 25));
        await ReportAsync(replica.Channel, "shelter-acm", Beds(ShelterCategory.Cosm, 25, 25));
        await ReportAsync(replica.Channel, "shelter-jade", Beds(ShelterCategory.Cosm, 20, 20));
        var waiting = new List<Placement>();
        foreach (var i in Enumerable.Range(1, 4))
        {
            await KnownToTheRegistryAsync($"reg-batch-{i}");
            waiting.Add((await replica.Channel.Shelter().RequestPlacementAsync(Placement($"batch-{i}", ShelterCategory.Cosm, $"reg-batch-{i}"), As("comensha"))).Placement);
        }

        var before = factsReads.Count;
        await ReportAsync(replica.Channel, "shelter-jade", Beds(ShelterCategory.Cosm, 20, 16));
        var during = factsReads.Count - before;
        var held = await replica.Channel.Shelter().ListPlacementsAsync(new ListPlacementsRequest { StateFilter = { PlacementState.Held } }, As("shelter-jade"));

        Assert.All(waiting, p => Assert.Equal(PlacementState.Waitlisted, p.State));
        Assert.Equal(waiting.Select(p => p.PlacementId).Order(), held.Placements.Select(p => p.PlacementId).Order());
        // One query for the four waiters' facts, not one per waiter.
        Assert.Equal(1, during);
    }

    /// <summary>The registry's facts about a registration, as its event brings them; an eligible COSM candidate unless told otherwise.</summary>
    protected async Task KnownToTheRegistryAsync(string registrationId, Action<Chain.Events.V1.RegistrationAdmissionFacts>? change = null)
    {
        var facts = new Chain.Events.V1.RegistrationAdmissionFacts { EventId = Guid.NewGuid().ToString(), RegistrationId = registrationId, Version = 1, InReflectionPeriod = true };
        change?.Invoke(facts);
        await Host.PublishAsync(facts);
        await Eventually.SucceedsAsync(async () =>
        {
            using var scope = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.CreateScope(Host.Services);
            var db = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Ketenmesh.Shelter.Persistence.ShelterDbContext>(scope.ServiceProvider);
            Assert.True(await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.AdmissionFacts, f => f.RegistrationId == registrationId && f.Version == facts.Version));
        });
    }

    [Fact]
    public async Task Cosm_admission_is_decided_on_the_registrys_facts_and_each_criterion_fails_on_its_own()
    {
        var cases = new (string Registration, Action<Chain.Events.V1.RegistrationAdmissionFacts> Facts, CosmIneligibility? Reason)[]
        {
            ("reg-cosm-ok", _ => { }, null),
            ("reg-cosm-minor", f => f.Minor = true, CosmIneligibility.Minor),
            ("reg-cosm-dutch", f => f.DutchNational = true, CosmIneligibility.DutchNational),
            ("reg-cosm-noreflection", f => f.InReflectionPeriod = false, CosmIneligibility.NotInReflectionPeriod),
            ("reg-cosm-aangifte", f => f.AangifteMade = true, CosmIneligibility.AangifteMade),
            ("reg-cosm-asylum", f => f.AsylumProcedure = true, CosmIneligibility.EarlierAsylumProcedure),
        };
        foreach (var (registration, facts, _) in cases)
        {
            await KnownToTheRegistryAsync(registration, facts);
        }

        var placements = new List<Placement>();
        foreach (var (registration, _, _) in cases)
        {
            // What the requester claims about the person does not count: the registry's facts do.
            var request = Placement($"cosm-{registration}", ShelterCategory.Cosm, registration);
            request.Needs.InReflectionPeriod = true;
            placements.Add((await Client.Shelter().RequestPlacementAsync(request, As("comensha"))).Placement);
        }
        await KnownToTheRegistryAsync("reg-cosm-closed", f => f.Closed = true);
        // Unknown to the registry (or closed): not refused, not admitted; it waits on the COSM list for CoMensha's review.
        var unknown = (await Client.Shelter().RequestPlacementAsync(Placement("cosm-unknown", ShelterCategory.Cosm, "reg-never-heard-of"), As("comensha"))).Placement;
        var closed = (await Client.Shelter().RequestPlacementAsync(Placement("cosm-closed", ShelterCategory.Cosm, "reg-cosm-closed"), As("comensha"))).Placement;

        Assert.Equal(PlacementState.Held, placements[0].State);
        Assert.True(placements[0].CosmEligible);
        for (var i = 1; i < cases.Length; i++)
        {
            Assert.Equal(PlacementState.Waitlisted, placements[i].State);
            Assert.False(placements[i].CosmEligible);
            Assert.Equal(WaitingList.WomensOrSocialShelter, placements[i].WaitingList);
            Assert.Equal([cases[i].Reason!.Value], placements[i].IneligibilityReasons);
        }
        Assert.All(new[] { unknown, closed }, p =>
        {
            Assert.Equal((PlacementState.Waitlisted, WaitingList.CosmEligible, false), (p.State, p.WaitingList, p.CosmEligible));
            Assert.Empty(p.IneligibilityReasons);
        });
    }

    [Fact]
    public async Task A_requester_other_than_CoMensha_is_answered_alike_whatever_the_registry_holds_and_only_CoMensha_reads_why()
    {
        await KnownToTheRegistryAsync("reg-care-ok");
        await KnownToTheRegistryAsync("reg-care-dutch", f => f.DutchNational = true);
        await KnownToTheRegistryAsync("reg-care-closed", f => f.Closed = true);

        var admitted = (await Client.Shelter().RequestPlacementAsync(Placement("care-cosm-ok", ShelterCategory.Cosm, "reg-care-ok"), As("care"))).Placement;
        var refused = (await Client.Shelter().RequestPlacementAsync(Placement("care-cosm-dutch", ShelterCategory.Cosm, "reg-care-dutch"), As("care"))).Placement;
        var unknown = (await Client.Shelter().RequestPlacementAsync(Placement("care-cosm-unknown", ShelterCategory.Cosm, "reg-care-never-heard-of"), As("care"))).Placement;
        var closed = (await Client.Shelter().RequestPlacementAsync(Placement("care-cosm-closed", ShelterCategory.Cosm, "reg-care-closed"), As("care"))).Placement;
        var readByCare = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = refused.PlacementId }, As("care"))).Placement;
        var readByCoMensha = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = refused.PlacementId }, As("comensha"))).Placement;
        var admittedByCoMensha = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = admitted.PlacementId }, As("comensha"))).Placement;

        // The answer to the request is one and the same whether the registry admits the person, refuses them, closed the
        // registration or never heard of it: waiting on the COSM list, version 1.
        Assert.All(new[] { admitted, refused, unknown, closed }, p =>
            Assert.Equal((PlacementState.Waitlisted, WaitingList.CosmEligible, "", 1L, false), (p.State, p.WaitingList, p.ShelterId, p.Version, p.CosmEligible)));
        Assert.All(new[] { admitted, refused, unknown, closed, readByCare }, p => Assert.Empty(p.IneligibilityReasons));
        // Decided after the answer, on the registry's facts: what CoMensha reads.
        Assert.Equal([CosmIneligibility.DutchNational], readByCoMensha.IneligibilityReasons);
        Assert.Equal((PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter), (readByCoMensha.State, readByCoMensha.WaitingList));
        Assert.True(admittedByCoMensha.CosmEligible);
        Assert.Equal(PlacementState.Held, admittedByCoMensha.State);
    }

    [Fact]
    public async Task A_COSM_request_made_before_the_registrys_facts_arrive_is_decided_when_they_do()
    {
        var early = (await Client.Shelter().RequestPlacementAsync(Placement("late-facts-1", ShelterCategory.Cosm, "reg-late-ok"), As("comensha"))).Placement;
        var refusedLater = (await Client.Shelter().RequestPlacementAsync(Placement("late-facts-2", ShelterCategory.Cosm, "reg-late-minor"), As("comensha"))).Placement;

        await KnownToTheRegistryAsync("reg-late-ok");
        await KnownToTheRegistryAsync("reg-late-minor", f => f.Minor = true);

        Assert.Equal((PlacementState.Waitlisted, WaitingList.CosmEligible), (early.State, early.WaitingList));
        Assert.Equal((PlacementState.Waitlisted, WaitingList.CosmEligible), (refusedLater.State, refusedLater.WaitingList));
        await Eventually.SucceedsAsync(async () =>
        {
            var held = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = early.PlacementId }, As("comensha"))).Placement;
            var moved = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = refusedLater.PlacementId }, As("comensha"))).Placement;
            Assert.Equal(PlacementState.Held, held.State);
            Assert.True(held.CosmEligible);
            Assert.NotEmpty(held.ShelterId);
            Assert.Equal((PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter), (moved.State, moved.WaitingList));
            Assert.Equal([CosmIneligibility.Minor], moved.IneligibilityReasons);
            // Kept its turn on the list it moved to.
            Assert.Equal(refusedLater.RequestedAt, moved.RequestedAt);
        });
        var cosm = Assert.Single((await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = early.PlacementId }, As("comensha"))).Placement.ShelterId }, As("comensha"))).Overview.Capacity.Beds, b => b.Category == ShelterCategory.Cosm);
        Assert.Equal(1, cosm.ReservedBeds);
    }

    [Fact]
    public async Task A_COSM_request_under_a_registration_the_registry_merged_is_decided_on_the_survivors_facts()
    {
        var underMerged = (await Client.Shelter().RequestPlacementAsync(Placement("merge-1", ShelterCategory.Cosm, "reg-merged-away"), As("comensha"))).Placement;
        await KnownToTheRegistryAsync("reg-merge-survivor");
        await KnownToTheRegistryAsync("reg-merged-away", f => { f.Version = 2; f.Closed = true; });
        var beforeMerge = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = underMerged.PlacementId }, As("comensha"))).Placement;

        await Host.PublishAsync(new Chain.Events.V1.RegistrationsMerged
        {
            EventId = Guid.NewGuid().ToString(), SurvivingRegistrationId = "reg-merge-survivor", MergedRegistrationIds = { "reg-merged-away" },
        });

        Assert.Equal((PlacementState.Waitlisted, WaitingList.CosmEligible), (beforeMerge.State, beforeMerge.WaitingList));
        await Eventually.SucceedsAsync(async () =>
        {
            var moved = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = underMerged.PlacementId }, As("comensha"))).Placement;
            Assert.Equal(("reg-merge-survivor", PlacementState.Held), (moved.RegistrationId, moved.State));
        });
        // A request made later under the merged id is the survivor's, and decided on its facts at once.
        var later = (await Client.Shelter().RequestPlacementAsync(Placement("merge-2", ShelterCategory.Cosm, "reg-merged-away"), As("comensha"))).Placement;
        Assert.Equal(("reg-merge-survivor", PlacementState.Held, true), (later.RegistrationId, later.State, later.CosmEligible));
    }

    [Fact]
    public async Task A_request_deciding_while_the_registry_merges_its_registration_ends_up_under_the_survivor()
    {
        // Another change holds the capacity turn: the request waits for it, and so does the merge.
        var holder = Host.Services.CreateAsyncScope();
        var turn = await holder.ServiceProvider.GetRequiredService<CapacityBoard>().BeginChangeAsync(CancellationToken.None);
        var request = Client.Shelter().RequestPlacementAsync(Placement("race-1", ShelterCategory.AdultMen, "reg-race-merged"), As("comensha")).ResponseAsync;
        await Host.PublishAsync(new Chain.Events.V1.RegistrationsMerged
        {
            EventId = Guid.NewGuid().ToString(), SurvivingRegistrationId = "reg-race-survivor", MergedRegistrationIds = { "reg-race-merged" },
        });
        // Time for the merge to arrive while the request waits (it once committed here, ahead of the request it could not
        // see yet, which then stored the placement under the merged id for good). Nothing is asserted of this moment.
        await Task.Delay(TimeSpan.FromSeconds(1));
        await turn.DisposeAsync();
        await holder.DisposeAsync();
        var placed = (await request).Placement;

        await Eventually.SucceedsAsync(async () =>
        {
            var now = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = placed.PlacementId }, As("comensha"))).Placement;
            Assert.Equal("reg-race-survivor", now.RegistrationId);
        }, TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_freed_bed_is_held_for_the_head_of_the_matching_waiting_list()
    {
        await OneAdultMensBedLeftAsync();
        var first = (await Client.Shelter().RequestPlacementAsync(Placement("head-1", ShelterCategory.AdultMen, "reg-head-1"), As("comensha"))).Placement;
        var second = (await Client.Shelter().RequestPlacementAsync(Placement("head-2", ShelterCategory.AdultMen, "reg-head-2"), As("comensha"))).Placement;
        var third = (await Client.Shelter().RequestPlacementAsync(Placement("head-3", ShelterCategory.AdultMen, "reg-head-3"), As("comensha"))).Placement;
        var before = await Client.Shelter().ListWaitingListAsync(new ListWaitingListRequest { WaitingList = WaitingList.WomensOrSocialShelter }, As("comensha"));

        await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = first.PlacementId, NewState = PlacementState.Declined, ExpectedVersion = first.Version,
        }, As("shelter-jade"));
        var offered = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = second.PlacementId }, As("comensha"))).Placement;
        var after = await Client.Shelter().ListWaitingListAsync(new ListWaitingListRequest { WaitingList = WaitingList.WomensOrSocialShelter }, As("comensha"));
        var men = Assert.Single((await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, As("comensha"))).Overview.Capacity.Beds, b => b.Category == ShelterCategory.AdultMen);

        Assert.Equal([second.PlacementId, third.PlacementId], before.Entries.Select(e => e.PlacementId));
        Assert.Equal([1, 2], before.Entries.Select(e => e.Position));
        Assert.Equal(PlacementState.Held, offered.State);
        Assert.Equal("shelter-jade", offered.ShelterId);
        Assert.Equal(third.PlacementId, Assert.Single(after.Entries).PlacementId);
        Assert.Equal(1, after.TotalWaiting);
        Assert.Equal((1, 0), (men.ReservedBeds, men.AvailableBeds));
    }

    [Fact]
    public async Task Someone_under_acute_threat_is_held_only_a_bed_in_a_secured_shelter_and_otherwise_waits()
    {
        // Jade (secured) is full for men; Den Haag (not secured) has one bed left.
        await ReportAsync(Client, "shelter-jade", Beds(ShelterCategory.AdultMen, 6, 6));
        await ReportAsync(Client, "shelter-social-den-haag", Beds(ShelterCategory.AdultMen, 12, 11));
        var threatened = Placement("secured-1", ShelterCategory.AdultMen, "reg-secured-1");
        threatened.Needs.SecuredRequired = true;

        var waiting = (await Client.Shelter().RequestPlacementAsync(threatened, As("comensha"))).Placement;
        var other = (await Client.Shelter().RequestPlacementAsync(Placement("secured-2", ShelterCategory.AdultMen, "reg-secured-2"), As("comensha"))).Placement;
        var third = (await Client.Shelter().RequestPlacementAsync(Placement("secured-3", ShelterCategory.AdultMen, "reg-secured-3"), As("comensha"))).Placement;
        // Den Haag's bed comes free again: the one waiting longest needs a secured shelter, so it goes to the next.
        await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = other.PlacementId, NewState = PlacementState.Declined, ExpectedVersion = other.Version,
        }, As("shelter-social-den-haag"));
        var stillWaiting = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = waiting.PlacementId }, As("comensha"))).Placement;
        var offered = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = third.PlacementId }, As("comensha"))).Placement;

        Assert.Equal(PlacementState.Waitlisted, waiting.State);
        Assert.Equal((PlacementState.Held, "shelter-social-den-haag"), (other.State, other.ShelterId));
        Assert.Equal(PlacementState.Waitlisted, third.State);
        Assert.Equal(PlacementState.Waitlisted, stillWaiting.State);
        Assert.Equal((PlacementState.Held, "shelter-social-den-haag"), (offered.State, offered.ShelterId));
    }

    /// <summary>
    /// A minor goes to protected shelter (seeds/001…txt L6174–6175): whether the registry says so (its admission facts)
    /// or the request does, only a secured shelter's bed is held, and a freed open bed passes the minor by.
    /// </summary>
    [Fact]
    public async Task A_minor_is_held_only_a_bed_in_a_secured_shelter_whether_the_registry_or_the_request_says_minor()
    {
        await KnownToTheRegistryAsync("reg-minor-girl", f => f.Minor = true);
        // The secured women's shelters are full; Utrecht's open women's shelter has one bed left.
        await ReportAsync(Client, "shelter-pmw", Beds(ShelterCategory.AdultWomen, 4, 4));
        await ReportAsync(Client, "shelter-acm", Beds(ShelterCategory.AdultWomen, 4, 4));
        await ReportAsync(Client, "shelter-fier", Beds(ShelterCategory.AdultWomen, 8, 8));
        await ReportAsync(Client, "shelter-womens-utrecht", Beds(ShelterCategory.AdultWomen, 10, 9));
        var claimed = Placement("minor-2", ShelterCategory.AdultWomen, "reg-minor-claimed");
        claimed.Needs.Minor = true;

        var byRegistry = (await Client.Shelter().RequestPlacementAsync(Placement("minor-1", ShelterCategory.AdultWomen, "reg-minor-girl"), As("nidos"))).Placement;
        var byRequest = (await Client.Shelter().RequestPlacementAsync(claimed, As("nidos"))).Placement;
        var adult = (await Client.Shelter().RequestPlacementAsync(Placement("minor-adult", ShelterCategory.AdultWomen, "reg-minor-adult"), As("comensha"))).Placement;
        // Utrecht's bed comes free again, and then a bed in a secured shelter.
        await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = adult.PlacementId, NewState = PlacementState.Declined, ExpectedVersion = adult.Version,
        }, As("shelter-womens-utrecht"));
        var afterOpenBed = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = byRegistry.PlacementId }, As("comensha"))).Placement;
        await ReportAsync(Client, "shelter-pmw", Beds(ShelterCategory.AdultWomen, 4, 3));
        var afterSecuredBed = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = byRegistry.PlacementId }, As("comensha"))).Placement;

        Assert.Equal(PlacementState.Waitlisted, byRegistry.State);
        Assert.Equal(PlacementState.Waitlisted, byRequest.State);
        Assert.Equal((PlacementState.Held, "shelter-womens-utrecht"), (adult.State, adult.ShelterId));
        Assert.Equal(PlacementState.Waitlisted, afterOpenBed.State);
        Assert.Equal((PlacementState.Held, "shelter-pmw"), (afterSecuredBed.State, afterSecuredBed.ShelterId));
        var utrecht = await BedsAsync("shelter-womens-utrecht", ShelterCategory.AdultWomen);
        Assert.Equal((0, 1), (utrecht.ReservedBeds, utrecht.AvailableBeds));
    }

    [Fact]
    public async Task A_COSM_request_refused_admission_waits_for_and_is_held_a_freed_womens_or_social_shelter_bed()
    {
        await KnownToTheRegistryAsync("reg-refused-minor", f => f.Minor = true);
        await KnownToTheRegistryAsync("reg-refused-dutch", f => f.DutchNational = true);
        var taken = (await Client.Shelter().RequestPlacementAsync(Placement("womens-1", ShelterCategory.AdultWomen, "reg-womens-1", "shelter-womens-utrecht"), As("comensha"))).Placement;
        var minor = (await Client.Shelter().RequestPlacementAsync(Placement("refused-1", ShelterCategory.Cosm, "reg-refused-minor"), As("comensha"))).Placement;
        var dutch = (await Client.Shelter().RequestPlacementAsync(Placement("refused-2", ShelterCategory.Cosm, "reg-refused-dutch"), As("comensha"))).Placement;

        // A women's shelter bed comes free: the adult refused COSM gets it; the minor waits for a place for minors.
        await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = taken.PlacementId, NewState = PlacementState.Declined, ExpectedVersion = taken.Version,
        }, As("shelter-womens-utrecht"));
        var offered = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = dutch.PlacementId }, As("comensha"))).Placement;
        var stillWaiting = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = minor.PlacementId }, As("comensha"))).Placement;
        var list = await Client.Shelter().ListWaitingListAsync(new ListWaitingListRequest { WaitingList = WaitingList.WomensOrSocialShelter }, As("comensha"));

        Assert.Equal((PlacementState.Held, "shelter-womens-utrecht"), (taken.State, taken.ShelterId));
        Assert.Equal((PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter), (minor.State, minor.WaitingList));
        Assert.Equal((PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter), (dutch.State, dutch.WaitingList));
        Assert.Equal((PlacementState.Held, "shelter-womens-utrecht"), (offered.State, offered.ShelterId));
        Assert.Equal(PlacementState.Waitlisted, stillWaiting.State);
        Assert.Equal(minor.PlacementId, Assert.Single(list.Entries).PlacementId);
    }

    [Fact]
    public async Task A_woman_refused_COSM_waits_for_her_fallback_bed_and_a_freed_mens_bed_goes_to_the_man_waiting_for_it()
    {
        await OneAdultMensBedLeftAsync();
        await KnownToTheRegistryAsync("reg-fallback-woman", f => f.DutchNational = true);
        var lastMensBed = (await Client.Shelter().RequestPlacementAsync(Placement("fallback-men-0", ShelterCategory.AdultMen, "reg-fallback-men-0"), As("comensha"))).Placement;
        var woman = (await Client.Shelter().RequestPlacementAsync(Placement("fallback-woman", ShelterCategory.Cosm, "reg-fallback-woman"), As("comensha"))).Placement;
        var man = (await Client.Shelter().RequestPlacementAsync(Placement("fallback-men-1", ShelterCategory.AdultMen, "reg-fallback-men-1"), As("comensha"))).Placement;

        // A men's bed comes free: the woman waits longer, but it is not the bed she needs.
        await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = lastMensBed.PlacementId, NewState = PlacementState.Declined, ExpectedVersion = lastMensBed.Version,
        }, As("shelter-jade"));
        var manAfter = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = man.PlacementId }, As("comensha"))).Placement;
        var womanAfter = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = woman.PlacementId }, As("comensha"))).Placement;
        // A women's bed comes free in Utrecht: hers, and the shelter confirms it.
        await ReportAsync(Client, "shelter-womens-utrecht", Beds(ShelterCategory.AdultWomen, 10, 9));
        var offered = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = woman.PlacementId }, As("comensha"))).Placement;
        var placed = (await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = offered.PlacementId, NewState = PlacementState.Placed, ExpectedVersion = offered.Version,
        }, As("shelter-womens-utrecht"))).Placement;
        var utrecht = await BedsAsync("shelter-womens-utrecht", ShelterCategory.AdultWomen);

        Assert.Equal((PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter), (woman.State, woman.WaitingList));
        Assert.Equal(PlacementState.Waitlisted, man.State);
        Assert.Equal((PlacementState.Held, "shelter-jade"), (manAfter.State, manAfter.ShelterId));
        Assert.Equal(PlacementState.Waitlisted, womanAfter.State);
        Assert.Equal((PlacementState.Held, "shelter-womens-utrecht"), (offered.State, offered.ShelterId));
        Assert.Equal(PlacementState.Placed, placed.State);
        Assert.Equal((10, 0, 0), (utrecht.OccupiedBeds, utrecht.ReservedBeds, utrecht.AvailableBeds));
    }

    [Fact]
    public async Task A_COSM_request_without_a_fallback_category_is_refused_by_field()
    {
        var request = Placement("no-fallback", ShelterCategory.Cosm, "reg-no-fallback");
        request.Needs.FallbackCategory = ShelterCategory.Unspecified;
        var cosmFallback = Placement("cosm-fallback", ShelterCategory.Cosm, "reg-no-fallback");
        cosmFallback.Needs.FallbackCategory = ShelterCategory.Cosm;
        var notCosm = Placement("men-fallback", ShelterCategory.AdultMen, "reg-no-fallback");
        notCosm.Needs.FallbackCategory = ShelterCategory.AdultWomen;

        foreach (var refused in new[] { request, cosmFallback, notCosm })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().RequestPlacementAsync(refused, As("comensha")).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Equal("needs.fallback_category", Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        }
    }

    [Fact]
    public async Task A_freed_COSM_bed_passes_over_a_waiter_no_longer_admitted_who_moves_to_the_list_they_now_belong_on()
    {
        // One COSM bed left in the country, at Jade.
        await ReportAsync(Client, "shelter-pmw", Beds(ShelterCategory.Cosm, 25, 25));
        await ReportAsync(Client, "shelter-acm", Beds(ShelterCategory.Cosm, 25, 25));
        await ReportAsync(Client, "shelter-jade", Beds(ShelterCategory.Cosm, 20, 19));
        foreach (var registration in new[] { "reg-recheck-held", "reg-recheck-1", "reg-recheck-2" })
        {
            await KnownToTheRegistryAsync(registration);
        }
        var held = (await Client.Shelter().RequestPlacementAsync(Placement("recheck-0", ShelterCategory.Cosm, "reg-recheck-held"), As("comensha"))).Placement;
        var first = (await Client.Shelter().RequestPlacementAsync(Placement("recheck-1", ShelterCategory.Cosm, "reg-recheck-1"), As("comensha"))).Placement;
        var second = (await Client.Shelter().RequestPlacementAsync(Placement("recheck-2", ShelterCategory.Cosm, "reg-recheck-2"), As("comensha"))).Placement;
        // While the first waits, aangifte is made: no longer a COSM candidate.
        await KnownToTheRegistryAsync("reg-recheck-1", f => { f.Version = 2; f.AangifteMade = true; });

        await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = held.PlacementId, NewState = PlacementState.Declined, ExpectedVersion = held.Version,
        }, As("shelter-jade"));
        var moved = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = first.PlacementId }, As("comensha"))).Placement;
        var offered = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = second.PlacementId }, As("comensha"))).Placement;
        var cosmList = await Client.Shelter().ListWaitingListAsync(new ListWaitingListRequest { WaitingList = WaitingList.CosmEligible }, As("comensha"));
        var womensList = await Client.Shelter().ListWaitingListAsync(new ListWaitingListRequest { WaitingList = WaitingList.WomensOrSocialShelter }, As("comensha"));

        Assert.Equal((PlacementState.Waitlisted, WaitingList.CosmEligible, true), (first.State, first.WaitingList, first.CosmEligible));
        Assert.Equal((PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter), (moved.State, moved.WaitingList));
        Assert.False(moved.CosmEligible);
        Assert.Equal([CosmIneligibility.AangifteMade], moved.IneligibilityReasons);
        Assert.True(moved.Version > first.Version);
        Assert.Equal((PlacementState.Held, "shelter-jade"), (offered.State, offered.ShelterId));
        Assert.Empty(cosmList.Entries);
        Assert.Equal(first.PlacementId, Assert.Single(womensList.Entries).PlacementId);
    }

    [Fact]
    public async Task Beds_a_report_frees_are_held_for_those_waiting_in_the_same_change()
    {
        await ReportAsync(Client, "shelter-jade", Beds(ShelterCategory.AdultMen, 6, 6));
        await ReportAsync(Client, "shelter-social-den-haag", Beds(ShelterCategory.AdultMen, 12, 12));
        var first = (await Client.Shelter().RequestPlacementAsync(Placement("report-frees-1", ShelterCategory.AdultMen, "reg-report-frees-1"), As("comensha"))).Placement;
        var second = (await Client.Shelter().RequestPlacementAsync(Placement("report-frees-2", ShelterCategory.AdultMen, "reg-report-frees-2"), As("comensha"))).Placement;
        var third = (await Client.Shelter().RequestPlacementAsync(Placement("report-frees-3", ShelterCategory.AdultMen, "reg-report-frees-3"), As("comensha"))).Placement;

        // Two men leave Jade: the report frees two beds, and the two waiting longest have them held at once.
        var reported = await ReportAsync(Client, "shelter-jade", Beds(ShelterCategory.AdultMen, 6, 4));
        var placements = new List<Placement>();
        foreach (var placement in new[] { first, second, third })
        {
            placements.Add((await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = placement.PlacementId }, As("comensha"))).Placement);
        }

        Assert.All(new[] { first, second, third }, p => Assert.Equal(PlacementState.Waitlisted, p.State));
        var men = Assert.Single(reported.Beds, b => b.Category == ShelterCategory.AdultMen);
        Assert.Equal((6, 4, 2, 0), (men.TotalBeds, men.OccupiedBeds, men.ReservedBeds, men.AvailableBeds));
        Assert.Equal([(PlacementState.Held, "shelter-jade"), (PlacementState.Held, "shelter-jade"), (PlacementState.Waitlisted, "")], placements.Select(p => (p.State, p.ShelterId)));
        Assert.Equal(reported, (await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, As("comensha"))).Overview.Capacity);
    }

    [Fact]
    public async Task The_capacity_watch_delivers_every_change_in_order_and_resumes_after_a_reconnect_with_no_gap()
    {
        using var first = Client.Shelter().WatchCapacity(new WatchCapacityRequest(), As("comensha"));
        await first.ResponseHeadersAsync;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var initial = new List<CapacitySnapshot>();
        for (var i = 0; i < 6; i++)
        {
            Assert.True(await first.ResponseStream.MoveNext(timeout.Token));
            Assert.True(first.ResponseStream.Current.Initial);
            initial.Add(first.ResponseStream.Current.Capacity);
        }
        var live = new List<CapacitySnapshot>();
        var reported = new List<long>();
        foreach (var occupied in new[] { 1, 2, 3 })
        {
            reported.Add((await ReportAsync(Client, "shelter-pmw", Beds(ShelterCategory.Cosm, 25, occupied))).Version);
            Assert.True(await first.ResponseStream.MoveNext(timeout.Token));
            live.Add(first.ResponseStream.Current.Capacity);
        }
        first.Dispose();
        // While the watcher is away, three more changes, one of them a hold.
        await KnownToTheRegistryAsync("reg-watch");
        reported.Add((await ReportAsync(Client, "shelter-acm", Beds(ShelterCategory.Cosm, 25, 7))).Version);
        await Client.Shelter().RequestPlacementAsync(Placement("watch-1", ShelterCategory.Cosm, "reg-watch", "shelter-acm"), As("comensha"));
        reported.Add(reported[^1] + 1);
        reported.Add((await ReportAsync(Client, "shelter-pmw", Beds(ShelterCategory.Cosm, 25, 4))).Version);

        using var resumed = Client.Shelter().WatchCapacity(new WatchCapacityRequest { ResumeAfterVersion = live[^1].Version }, As("comensha"));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await resumed.ResponseStream.MoveNext(timeout.Token));
            Assert.False(resumed.ResponseStream.Current.Initial);
            live.Add(resumed.ResponseStream.Current.Capacity);
        }

        Assert.Equal(initial.Select(s => s.Version).Order(), initial.Select(s => s.Version));
        Assert.Equal(reported, live.Select(s => s.Version));
        Assert.Equal(Enumerable.Range((int)live[0].Version, 6).Select(v => (long)v), live.Select(s => s.Version));
        Assert.Equal([1, 2, 3, 7, 7, 4], live.Select(s => s.Beds.Single(b => b.Category == ShelterCategory.Cosm).OccupiedBeds));
        Assert.Equal(1, live[4].Beds.Single(b => b.Category == ShelterCategory.Cosm).ReservedBeds);
    }

    [Fact]
    public async Task A_watch_on_one_replica_hears_changes_committed_on_another_in_order()
    {
        var other = await StartReplicaAsync();
        using var watch = Client.Shelter().WatchCapacity(new WatchCapacityRequest { ShelterIds = { "shelter-fier" } }, As("municipality"));
        await watch.ResponseHeadersAsync;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
        Assert.True(watch.ResponseStream.Current.Initial);

        var versions = new List<long>();
        foreach (var occupied in new[] { 1, 2, 3, 4 })
        {
            versions.Add((await ReportAsync(occupied % 2 == 0 ? Client : other.Channel, "shelter-fier", Beds(ShelterCategory.Minors, 12, occupied))).Version);
        }
        var heard = new List<CapacitySnapshot>();
        for (var i = 0; i < 4; i++)
        {
            Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
            heard.Add(watch.ResponseStream.Current.Capacity);
        }

        Assert.Equal(versions, heard.Select(s => s.Version));
        Assert.Equal([1, 2, 3, 4], heard.Select(s => s.Beds.Single(b => b.Category == ShelterCategory.Minors).OccupiedBeds));
        Assert.All(heard, s => Assert.Equal("shelter-fier", s.ShelterId));
    }

    [Fact]
    public async Task A_replica_reads_the_change_log_once_per_change_for_all_its_watches()
    {
        var reads = new TableReads("capacity_changes");
        var settings = DatabaseSettings();
        // Only its own commits wake the replica's reader here, and nothing else reads the log, so every read is counted.
        settings["Shelter:Watch:CatchUpInterval"] = "01:00:00";
        settings["Shelter:Watch:PurgeInterval"] = "00:00:00";
        var replica = await ShelterHost.StartAsync(settings, Clock, Events, services => services.ConfigureDbContext<ShelterDbContext>(o => o.AddInterceptors(reads)));
        _hosts.Add(replica);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var watches = Enumerable.Range(0, 50).Select(_ => replica.Channel.Shelter().WatchCapacity(new WatchCapacityRequest { ShelterIds = { "shelter-fier" } }, As("comensha"))).ToList();
        foreach (var watch in watches)
        {
            Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
            Assert.True(watch.ResponseStream.Current.Initial);
        }

        var before = reads.Count;
        foreach (var occupied in new[] { 1, 2, 3 })
        {
            var version = (await ReportAsync(replica.Channel, "shelter-fier", Beds(ShelterCategory.Minors, 12, occupied))).Version;
            foreach (var watch in watches)
            {
                Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
                Assert.Equal(version, watch.ResponseStream.Current.Capacity.Version);
            }
        }
        var during = reads.Count - before;
        watches.ForEach(w => w.Dispose());

        // One read per change for the replica, not one per watch (which would be 150).
        Assert.InRange(during, 1, 9);
    }

    [Fact]
    public async Task A_watch_resumed_from_before_the_replicas_window_catches_up_from_the_log_and_then_follows_live()
    {
        var settings = DatabaseSettings();
        settings["Shelter:Watch:WindowSize"] = "2";
        var replica = await ShelterHost.StartAsync(settings, Clock, Events);
        _hosts.Add(replica);
        var versions = new List<long>();
        foreach (var occupied in new[] { 1, 2, 3, 4, 5 })
        {
            versions.Add((await ReportAsync(replica.Channel, "shelter-fier", Beds(ShelterCategory.Minors, 12, occupied))).Version);
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using var resumed = replica.Channel.Shelter().WatchCapacity(new WatchCapacityRequest { ResumeAfterVersion = versions[0] }, As("comensha"));
        var heard = new List<CapacitySnapshot>();
        for (var i = 0; i < 4; i++)
        {
            Assert.True(await resumed.ResponseStream.MoveNext(timeout.Token));
            heard.Add(resumed.ResponseStream.Current.Capacity);
        }
        versions.Add((await ReportAsync(replica.Channel, "shelter-fier", Beds(ShelterCategory.Minors, 12, 6))).Version);
        Assert.True(await resumed.ResponseStream.MoveNext(timeout.Token));
        heard.Add(resumed.ResponseStream.Current.Capacity);

        Assert.Equal(versions.Skip(1), heard.Select(s => s.Version));
        Assert.Equal([2, 3, 4, 5, 6], heard.Select(s => s.Beds.Single(b => b.Category == ShelterCategory.Minors).OccupiedBeds));
    }

    /// <summary>A moment <paramref name="from"/> now on the test's clock, in whole seconds (as a partner's system sends it).</summary>
    private DateTimeOffset Ahead(TimeSpan from)
    {
        var at = Clock.GetUtcNow() + from;
        return at.AddTicks(-(at.UtcTicks % TimeSpan.TicksPerSecond));
    }

    private async Task<BedCount> BedsAsync(string shelterId, ShelterCategory category) =>
        Assert.Single((await Client.Shelter().GetCapacityAsync(new GetCapacityRequest { ShelterId = shelterId }, As("comensha"))).Overview.Capacity.Beds, b => b.Category == category);

    private async Task<List<CapacitySnapshot>> AllCapacityAsync() =>
        (await Client.Shelter().ListSheltersAsync(new ListSheltersRequest(), As("comensha"))).Shelters.Select(s => s.Capacity).ToList();

    [Fact]
    public async Task A_large_group_announced_before_an_action_gets_places_held_in_its_municipality_first_and_they_are_no_longer_free()
    {
        var expectedAt = Ahead(TimeSpan.FromDays(2));
        // Emmen (Jade) has 6 beds for men; the rest go where there is most room. No shelter in Emmen takes women.
        var answer = await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-1", expectedAt, TimeSpan.FromDays(10), "GM0114", (ShelterCategory.AdultMen, 10), (ShelterCategory.AdultWomen, 3)), As("inspectorate"));
        var arrangement = answer.Arrangement;
        var jade = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);
        var denHaag = await BedsAsync("shelter-social-den-haag", ShelterCategory.AdultMen);
        var utrecht = await BedsAsync("shelter-womens-utrecht", ShelterCategory.AdultWomen);
        var withRoomForMen = await Client.Shelter().ListSheltersAsync(new ListSheltersRequest { CategoryFilter = { ShelterCategory.AdultMen }, OnlyAvailable = true }, As("police"));
        // Eight beds for men are left, all in Den Haag: the ninth person waits.
        var placements = new List<Placement>();
        for (var i = 0; i < 9; i++)
        {
            placements.Add((await Client.Shelter().RequestPlacementAsync(Placement($"after-raid-{i}", ShelterCategory.AdultMen, $"reg-after-raid-{i}"), As("comensha"))).Placement);
        }

        Assert.False(answer.Duplicate);
        Assert.StartsWith("lga-", arrangement.ArrangementId, StringComparison.Ordinal);
        Assert.Equal(LargeGroupState.Arranged, arrangement.State);
        Assert.Equal(
            [("shelter-womens-utrecht", ShelterCategory.AdultWomen, 3), ("shelter-jade", ShelterCategory.AdultMen, 6), ("shelter-social-den-haag", ShelterCategory.AdultMen, 4)],
            arrangement.Allocations.Select(a => (a.ShelterId, a.Category, a.Places)));
        Assert.Equal(Chain.Common.V1.PartnerType.Inspectorate, arrangement.RequestedBy);
        Assert.Equal("op-raid-1", arrangement.OperationReference);
        Assert.Equal(expectedAt, arrangement.StartsAt.ToDateTimeOffset());
        Assert.Equal(expectedAt + TimeSpan.FromDays(10), arrangement.EndsAt.ToDateTimeOffset());
        Assert.Null(arrangement.ReleasedAt);
        Assert.Equal((6, 0), (jade.ReservedBeds, jade.AvailableBeds));
        Assert.Equal((4, 8), (denHaag.ReservedBeds, denHaag.AvailableBeds));
        Assert.Equal((3, 7), (utrecht.ReservedBeds, utrecht.AvailableBeds));
        Assert.Equal(["shelter-social-den-haag"], withRoomForMen.Shelters.Select(s => s.Shelter.ShelterId));
        Assert.All(placements.Take(8), p => Assert.Equal((PlacementState.Held, "shelter-social-den-haag"), (p.State, p.ShelterId)));
        Assert.Equal(PlacementState.Waitlisted, placements[8].State);
        await Eventually.SucceedsAsync(() =>
        {
            var held = Assert.Single(Events.GroupHeld, e => e.ArrangementId == arrangement.ArrangementId);
            Assert.Equal((LargeGroupState.Arranged, 13), (held.State, held.PersonsExpected));
            Assert.Equal(arrangement.Allocations, held.Allocations);
            Assert.Equal(arrangement.EndsAt, held.EndsAt);
            // One capacity change per shelter, each with a version of its own.
            var changes = new[] { "shelter-jade", "shelter-social-den-haag", "shelter-womens-utrecht" }
                .Select(id => Events.CapacityChanged.Where(e => e.ShelterId == id).MinBy(e => e.Version)!).ToList();
            Assert.Equal(3, changes.Select(c => c.Version).Distinct().Count());
            Assert.Equal(6, changes[0].Beds.Single(b => b.Category == ShelterCategory.AdultMen).ReservedBeds);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_large_group_arrangement_is_read_by_its_announcer_and_CoMensha_and_by_no_one_else()
    {
        var announced = (await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-read", Ahead(TimeSpan.FromDays(1)), TimeSpan.FromDays(4), "GM0363", (ShelterCategory.AdultWomen, 2)), As("inspectorate"))).Arrangement;
        var read = new GetLargeGroupArrangementRequest { ArrangementId = announced.ArrangementId };

        var byAnnouncer = (await Client.Shelter().GetLargeGroupArrangementAsync(read, As("inspectorate"))).Arrangement;
        var byCoMensha = (await Client.Shelter().GetLargeGroupArrangementAsync(read, As("comensha"))).Arrangement;
        var byPolice = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().GetLargeGroupArrangementAsync(read, As("police")).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().GetLargeGroupArrangementAsync(new GetLargeGroupArrangementRequest { ArrangementId = "lga-none" }, As("comensha")).ResponseAsync);

        Assert.Equal(announced, byAnnouncer);
        Assert.Equal(announced, byCoMensha);
        Assert.Equal(StatusCode.NotFound, byPolice.StatusCode);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(byPolice.Status.Detail, unknown.Status.Detail);
    }

    [Fact]
    public async Task A_large_group_bigger_than_the_free_places_is_partially_arranged_with_every_free_place()
    {
        var answer = await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-partial", Ahead(TimeSpan.FromDays(1)), TimeSpan.FromDays(5), "GM0363", (ShelterCategory.AdultWomen, 30), (ShelterCategory.Transgender, 2)), As("comensha"));
        var women = (await Client.Shelter().ListSheltersAsync(new ListSheltersRequest { CategoryFilter = { ShelterCategory.AdultWomen } }, As("comensha")))
            .Shelters.SelectMany(s => s.Capacity.Beds).Where(b => b.Category == ShelterCategory.AdultWomen).ToList();

        Assert.Equal(LargeGroupState.PartiallyArranged, answer.Arrangement.State);
        Assert.Equal(26, answer.Arrangement.Allocations.Sum(a => a.Places));
        Assert.All(answer.Arrangement.Allocations, a => Assert.Equal(ShelterCategory.AdultWomen, a.Category));
        // Amsterdam first, then by room: Utrecht 10, Fier 8, Rotterdam 4.
        Assert.Equal([("shelter-acm", 4), ("shelter-fier", 8), ("shelter-pmw", 4), ("shelter-womens-utrecht", 10)], answer.Arrangement.Allocations.Select(a => (a.ShelterId, a.Places)));
        Assert.Equal(4, women.Count);
        Assert.All(women, b => Assert.Equal((b.TotalBeds, 0), (b.ReservedBeds, b.AvailableBeds)));
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(LargeGroupState.PartiallyArranged, Assert.Single(Events.GroupHeld, e => e.ArrangementId == answer.Arrangement.ArrangementId).State);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_large_group_for_which_no_place_is_free_is_not_arranged_and_capacity_does_not_change()
    {
        var before = await AllCapacityAsync();

        var answer = await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-none", Ahead(TimeSpan.FromDays(1)), TimeSpan.FromDays(3), "GM0363", (ShelterCategory.Transgender, 4)), As("comensha"));
        var after = await AllCapacityAsync();
        // The next capacity change follows straight on from the last one: no version was used up.
        var next = await ReportAsync(Client, "shelter-fier", Beds(ShelterCategory.Minors, 12, 1));

        Assert.Equal(LargeGroupState.NotArranged, answer.Arrangement.State);
        Assert.Empty(answer.Arrangement.Allocations);
        Assert.Equal(before, after);
        Assert.Equal(before.Max(s => s.Version) + 1, next.Version);
    }

    [Fact]
    public async Task Bad_large_group_announcements_are_refused_field_by_field_and_nothing_is_held()
    {
        var before = await AllCapacityAsync();
        var mixed = LargeGroup("raid-bad", Ahead(TimeSpan.FromDays(1)), TimeSpan.FromDays(-1), "Amsterdam",
            (ShelterCategory.Unspecified, 2), (ShelterCategory.AdultMen, 0), (ShelterCategory.AdultMen, -3));
        mixed.Form = (Chain.Common.V1.FormOfExploitation)99;
        var tooFarAhead = LargeGroup("raid-far", Ahead(TimeSpan.FromDays(30)), TimeSpan.FromDays(3), "GM0363", (ShelterCategory.AdultMen, 2));
        var alreadyOver = LargeGroup("raid-over", Ahead(TimeSpan.FromDays(-3)), TimeSpan.FromDays(2), "GM0363", (ShelterCategory.AdultMen, 2));

        async Task<List<string>> RefusedFieldsAsync(RequestLargeGroupShelterRequest request)
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().RequestLargeGroupShelterAsync(request, As("inspectorate")).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            return refused.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field).ToList();
        }

        Assert.Equal(["client_request_id", "operation_reference", "expected_composition", "expected_at", "requested_duration"], await RefusedFieldsAsync(new RequestLargeGroupShelterRequest()));
        Assert.Equal(
            ["municipality.code", "form", "expected_composition[0].category", "expected_composition[1].persons", "expected_composition[2].category", "expected_composition[2].persons", "requested_duration"],
            await RefusedFieldsAsync(mixed));
        Assert.Equal(["expected_at"], await RefusedFieldsAsync(tooFarAhead));
        Assert.Equal(["expected_at"], await RefusedFieldsAsync(alreadyOver));
        Assert.Equal(before, await AllCapacityAsync());
    }

    [Fact]
    public async Task A_large_group_held_for_more_than_fourteen_days_is_refused_and_fourteen_days_is_held()
    {
        var expectedAt = Ahead(TimeSpan.FromDays(1));

        var refused = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-15", expectedAt, TimeSpan.FromDays(15), "GM0518", (ShelterCategory.AdultMen, 5)), As("inspectorate")).ResponseAsync);
        // Fourteen days of shelter, but the places would be held from now on: fifteen days in all.
        var heldTooLong = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-1-14", expectedAt, TimeSpan.FromDays(14), "GM0518", (ShelterCategory.AdultMen, 5)), As("inspectorate")).ResponseAsync);
        var fourteen = (await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-1-13", expectedAt, TimeSpan.FromDays(13), "GM0518", (ShelterCategory.AdultMen, 5)), As("inspectorate"))).Arrangement;

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal("requested_duration", Assert.Single(refused.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        Assert.Equal(StatusCode.InvalidArgument, heldTooLong.StatusCode);
        Assert.Equal("requested_duration", Assert.Single(heldTooLong.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        Assert.Equal(LargeGroupState.Arranged, fourteen.State);
        Assert.Equal(Ahead(TimeSpan.FromDays(14)), fourteen.EndsAt.ToDateTimeOffset());
        Assert.Equal(5, (await BedsAsync("shelter-social-den-haag", ShelterCategory.AdultMen)).ReservedBeds);
    }

    [Fact]
    public async Task Resubmitting_a_large_group_request_answers_the_same_arrangement_and_holds_nothing_more()
    {
        var request = LargeGroup("raid-again", Ahead(TimeSpan.FromDays(1)), TimeSpan.FromDays(7), "GM0518", (ShelterCategory.AdultMen, 5));

        var first = await Client.Shelter().RequestLargeGroupShelterAsync(request, As("inspectorate"));
        var capacity = await AllCapacityAsync();
        var again = await Client.Shelter().RequestLargeGroupShelterAsync(request, As("inspectorate"));
        var afterAgain = await AllCapacityAsync();
        var changed = request.Clone();
        changed.ExpectedComposition[0].Persons = 6;
        var conflicting = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().RequestLargeGroupShelterAsync(changed, As("inspectorate")).ResponseAsync);
        // The id is the requester's own: the same id from another partner is another request.
        var other = await Client.Shelter().RequestLargeGroupShelterAsync(request, As("comensha"));

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.Arrangement, again.Arrangement);
        Assert.Equal(capacity, afterAgain);
        Assert.Equal(StatusCode.AlreadyExists, conflicting.StatusCode);
        Assert.False(other.Duplicate);
        Assert.NotEqual(first.Arrangement.ArrangementId, other.Arrangement.ArrangementId);
        Assert.Equal(10, (await BedsAsync("shelter-social-den-haag", ShelterCategory.AdultMen)).ReservedBeds);
    }

    [Fact]
    public async Task A_large_groups_places_are_released_when_its_shelter_period_ends_on_a_moved_clock()
    {
        var arrangement = (await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-ends", Ahead(TimeSpan.FromDays(1)), TimeSpan.FromDays(2), "GM0114", (ShelterCategory.AdultMen, 6)), As("inspectorate"))).Arrangement;
        using var watch = Client.Shelter().WatchCapacity(new WatchCapacityRequest { ShelterIds = { "shelter-jade" } }, As("comensha"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
        Assert.Equal(6, watch.ResponseStream.Current.Capacity.Beds.Single(b => b.Category == ShelterCategory.AdultMen).ReservedBeds);

        // Inside the shelter period nothing goes back.
        Clock.Advance(TimeSpan.FromDays(2));
        using (var scope = Host.Services.CreateScope())
        {
            Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<LargeGroups>().ReleaseEndedAsync(CancellationToken.None));
        }
        var during = await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-ends", arrangement.ExpectedAt.ToDateTimeOffset(), TimeSpan.FromDays(2), "GM0114", (ShelterCategory.AdultMen, 6)), As("inspectorate"));
        Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));

        LargeGroupArrangement ended = null!;
        await Eventually.SucceedsAsync(async () =>
        {
            ended = (await Client.Shelter().RequestLargeGroupShelterAsync(
                LargeGroup("raid-ends", arrangement.ExpectedAt.ToDateTimeOffset(), TimeSpan.FromDays(2), "GM0114", (ShelterCategory.AdultMen, 6)), As("inspectorate"))).Arrangement;
            Assert.Equal(LargeGroupState.Ended, ended.State);
        });
        Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
        var heard = watch.ResponseStream.Current;
        var freed = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);

        Assert.Equal(LargeGroupState.Arranged, during.Arrangement.State);
        Assert.True(during.Duplicate);
        Assert.NotNull(ended.ReleasedAt);
        Assert.Equal(arrangement.Allocations, ended.Allocations);
        Assert.False(heard.Initial);
        var heardMen = heard.Capacity.Beds.Single(b => b.Category == ShelterCategory.AdultMen);
        Assert.Equal((0, 6), (heardMen.ReservedBeds, heardMen.AvailableBeds));
        Assert.Equal((0, 6), (freed.ReservedBeds, freed.AvailableBeds));
        await Eventually.SucceedsAsync(() =>
        {
            var released = Assert.Single(Events.GroupReleased, e => e.ArrangementId == arrangement.ArrangementId);
            Assert.Equal(LargeGroupState.Ended, released.State);
            Assert.Equal(arrangement.Allocations, released.Allocations);
            Assert.Contains(Events.CapacityChanged, e => e.ShelterId == "shelter-jade" && e.Version == heard.Capacity.Version
                && e.Beds.Single(b => b.Category == ShelterCategory.AdultMen).AvailableBeds == 6);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_placement_sent_again_under_its_client_request_id_without_its_arrangement_is_refused_not_taken_for_the_same()
    {
        var arrangement = (await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-resent", Ahead(TimeSpan.FromHours(1)), TimeSpan.FromDays(5), "GM0114", (ShelterCategory.AdultMen, 2)), As("inspectorate"))).Arrangement;
        var underGroup = Placement("raid-resent-0", ShelterCategory.AdultMen, "reg-raid-resent-0");
        underGroup.ArrangementId = arrangement.ArrangementId;
        var first = (await Client.Shelter().RequestPlacementAsync(underGroup, As("inspectorate"))).Placement;

        var same = (await Client.Shelter().RequestPlacementAsync(underGroup, As("inspectorate"))).Placement;
        var withoutGroup = underGroup.Clone();
        withoutGroup.ArrangementId = "";
        var refused = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().RequestPlacementAsync(withoutGroup, As("inspectorate")).ResponseAsync);

        Assert.Equal(first.PlacementId, same.PlacementId);
        Assert.Equal(StatusCode.AlreadyExists, refused.StatusCode);
        Assert.Contains("client_request_id", refused.Status.Detail);
    }

    [Fact]
    public async Task People_found_in_a_large_groups_action_are_placed_in_its_held_places_and_ending_it_early_frees_the_rest()
    {
        // Jade's six men's beds are all held for the group: nothing is free for men in Emmen.
        var arrangement = (await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-placed", Ahead(TimeSpan.FromHours(1)), TimeSpan.FromDays(5), "GM0114", (ShelterCategory.AdultMen, 6)), As("inspectorate"))).Arrangement;
        await ReportAsync(Client, "shelter-social-den-haag", Beds(ShelterCategory.AdultMen, 12, 12));
        var found = new List<Placement>();
        for (var i = 0; i < 2; i++)
        {
            var request = Placement($"raid-placed-{i}", ShelterCategory.AdultMen, $"reg-raid-placed-{i}");
            request.ArrangementId = arrangement.ArrangementId;
            found.Add((await Client.Shelter().RequestPlacementAsync(request, As("inspectorate"))).Placement);
        }
        var notTheAnnouncer = Placement("raid-placed-police", ShelterCategory.AdultMen, "reg-raid-placed-police");
        notTheAnnouncer.ArrangementId = arrangement.ArrangementId;
        var byPolice = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().RequestPlacementAsync(notTheAnnouncer, As("police")).ResponseAsync);
        var placed = (await Client.Shelter().RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = found[0].PlacementId, NewState = PlacementState.Placed, ExpectedVersion = found[0].Version,
        }, As("shelter-jade"))).Placement;
        var during = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);
        var waiting = (await Client.Shelter().RequestPlacementAsync(Placement("after-group", ShelterCategory.AdultMen, "reg-after-group"), As("comensha"))).Placement;

        // The action is over with two found: the announcer ends the arrangement, and its four other places go back.
        var ended = (await Client.Shelter().EndLargeGroupArrangementAsync(new EndLargeGroupArrangementRequest { ArrangementId = arrangement.ArrangementId }, As("inspectorate"))).Arrangement;
        var again = (await Client.Shelter().EndLargeGroupArrangementAsync(new EndLargeGroupArrangementRequest { ArrangementId = arrangement.ArrangementId }, As("comensha"))).Arrangement;
        var byOther = await Assert.ThrowsAsync<RpcException>(() => Client.Shelter().EndLargeGroupArrangementAsync(new EndLargeGroupArrangementRequest { ArrangementId = arrangement.ArrangementId }, As("police")).ResponseAsync);
        var after = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);
        var offered = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = waiting.PlacementId }, As("comensha"))).Placement;

        Assert.Equal([("shelter-jade", 6)], arrangement.Allocations.Select(a => (a.ShelterId, a.Places)));
        Assert.All(found, p => Assert.Equal((PlacementState.Held, "shelter-jade"), (p.State, p.ShelterId)));
        Assert.Equal(StatusCode.NotFound, byPolice.StatusCode);
        Assert.Equal(PlacementState.Placed, placed.State);
        Assert.Equal((6, 1, 5, 0), (during.TotalBeds, during.OccupiedBeds, during.ReservedBeds, during.AvailableBeds));
        Assert.Equal(PlacementState.Waitlisted, waiting.State);
        Assert.Equal(LargeGroupState.Ended, ended.State);
        Assert.NotNull(ended.ReleasedAt);
        Assert.Equal([("shelter-jade", 4)], ended.Allocations.Select(a => (a.ShelterId, a.Places)));
        Assert.Equal(ended, again);
        Assert.Equal(StatusCode.NotFound, byOther.StatusCode);
        // One occupied, one held for the second person found, one held for the man waiting; three free.
        Assert.Equal((1, 2, 3), (after.OccupiedBeds, after.ReservedBeds, after.AvailableBeds));
        Assert.Equal((PlacementState.Held, "shelter-jade"), (offered.State, offered.ShelterId));
        await Eventually.SucceedsAsync(() =>
        {
            var released = Assert.Single(Events.GroupReleased, e => e.ArrangementId == arrangement.ArrangementId);
            Assert.Equal([("shelter-jade", 4)], released.Allocations.Select(a => (a.ShelterId, a.Places)));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_place_held_for_someone_found_in_a_large_groups_action_goes_back_to_the_group_when_the_hold_runs_out()
    {
        // Jade's six men's beds are all held for the group, and Den Haag's are full: a man waiting meanwhile waits.
        var arrangement = (await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-unused", Ahead(TimeSpan.FromHours(1)), TimeSpan.FromDays(5), "GM0114", (ShelterCategory.AdultMen, 6)), As("inspectorate"))).Arrangement;
        await ReportAsync(Client, "shelter-social-den-haag", Beds(ShelterCategory.AdultMen, 12, 12));
        var request = Placement("raid-unused-0", ShelterCategory.AdultMen, "reg-raid-unused-0");
        request.ArrangementId = arrangement.ArrangementId;
        var found = (await Client.Shelter().RequestPlacementAsync(request, As("inspectorate"))).Placement;
        var waiting = (await Client.Shelter().RequestPlacementAsync(Placement("unused-waiting", ShelterCategory.AdultMen, "reg-unused-waiting"), As("comensha"))).Placement;
        var taken = (await Client.Shelter().GetLargeGroupArrangementAsync(new GetLargeGroupArrangementRequest { ArrangementId = arrangement.ArrangementId }, As("inspectorate"))).Arrangement;

        // Jade does not confirm in time.
        Clock.Advance(new PlacementOptions().HoldDuration + TimeSpan.FromMinutes(1));
        await Eventually.SucceedsAsync(async () =>
        {
            var placement = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = found.PlacementId }, As("inspectorate"))).Placement;
            Assert.Equal(PlacementState.Expired, placement.State);
        });
        var back = (await Client.Shelter().GetLargeGroupArrangementAsync(new GetLargeGroupArrangementRequest { ArrangementId = arrangement.ArrangementId }, As("inspectorate"))).Arrangement;
        var men = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);
        var stillWaiting = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = waiting.PlacementId }, As("comensha"))).Placement;
        var next = Placement("raid-unused-1", ShelterCategory.AdultMen, "reg-raid-unused-1");
        next.ArrangementId = arrangement.ArrangementId;
        var nextFound = (await Client.Shelter().RequestPlacementAsync(next, As("inspectorate"))).Placement;
        var afterNext = (await Client.Shelter().GetLargeGroupArrangementAsync(new GetLargeGroupArrangementRequest { ArrangementId = arrangement.ArrangementId }, As("inspectorate"))).Arrangement;

        Assert.Equal((PlacementState.Held, "shelter-jade"), (found.State, found.ShelterId));
        Assert.Equal(PlacementState.Waitlisted, waiting.State);
        Assert.Equal([("shelter-jade", 5)], taken.Allocations.Select(a => (a.ShelterId, a.Places)));
        // The place is the group's again, and the bed stays reserved: not offered to the man waiting.
        Assert.Equal([("shelter-jade", 6)], back.Allocations.Select(a => (a.ShelterId, a.Places)));
        Assert.Equal((6, 0, 6, 0), (men.TotalBeds, men.OccupiedBeds, men.ReservedBeds, men.AvailableBeds));
        Assert.Equal(PlacementState.Waitlisted, stillWaiting.State);
        Assert.Equal((PlacementState.Held, "shelter-jade"), (nextFound.State, nextFound.ShelterId));
        Assert.Equal([("shelter-jade", 5)], afterNext.Allocations.Select(a => (a.ShelterId, a.Places)));
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Contains(Events.Released, e => e.PlacementId == found.PlacementId && e.State == PlacementState.Expired);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task Places_a_large_group_gives_back_go_first_to_whoever_waits_for_that_kind_of_bed()
    {
        await OneAdultMensBedLeftAsync();
        var arrangement = (await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-waiting", Ahead(TimeSpan.FromHours(1)), TimeSpan.FromDays(1), "GM0114", (ShelterCategory.AdultMen, 1)), As("inspectorate"))).Arrangement;
        var waiting = (await Client.Shelter().RequestPlacementAsync(Placement("wait-for-group", ShelterCategory.AdultMen, "reg-wait-for-group"), As("comensha"))).Placement;

        Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(2));

        await Eventually.SucceedsAsync(async () =>
        {
            var placement = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = waiting.PlacementId }, As("comensha"))).Placement;
            Assert.Equal((PlacementState.Held, "shelter-jade"), (placement.State, placement.ShelterId));
        });
        var men = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);
        Assert.Equal(LargeGroupState.Arranged, arrangement.State);
        Assert.Equal(PlacementState.Waitlisted, waiting.State);
        Assert.Equal((1, 0), (men.ReservedBeds, men.AvailableBeds));
    }

    [Fact]
    public async Task A_large_groups_places_go_back_one_each_to_those_waiting_longest_and_the_rest_keep_waiting()
    {
        // Two men's beds left, both held for a group; three men then wait for a men's bed, in this order.
        await ReportAsync(Client, "shelter-social-den-haag", Beds(ShelterCategory.AdultMen, 12, 12));
        await ReportAsync(Client, "shelter-jade", Beds(ShelterCategory.AdultMen, 2, 0));
        await Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup("raid-two-places", Ahead(TimeSpan.FromHours(1)), TimeSpan.FromDays(1), "GM0114", (ShelterCategory.AdultMen, 2)), As("inspectorate"));
        var waiting = new List<Placement>();
        foreach (var name in new[] { "first", "second", "third" })
        {
            waiting.Add((await Client.Shelter().RequestPlacementAsync(Placement($"wait-{name}", ShelterCategory.AdultMen, $"reg-wait-{name}"), As("comensha"))).Placement);
        }
        Assert.All(waiting, w => Assert.Equal(PlacementState.Waitlisted, w.State));

        Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(2));

        // The group's end offers each freed place in turn, each offer seeing the list as the one before left it.
        await Eventually.SucceedsAsync(async () =>
        {
            var states = new List<(PlacementState, string)>();
            foreach (var placement in waiting)
            {
                var now = (await Client.Shelter().GetPlacementAsync(new GetPlacementRequest { PlacementId = placement.PlacementId }, As("comensha"))).Placement;
                states.Add((now.State, now.ShelterId));
            }
            Assert.Equal([(PlacementState.Held, "shelter-jade"), (PlacementState.Held, "shelter-jade"), (PlacementState.Waitlisted, "")], states);
        });
        var men = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);
        Assert.Equal((2, 0), (men.ReservedBeds, men.AvailableBeds));
    }

    [Fact]
    public async Task Parallel_large_groups_and_placements_never_hold_more_places_than_are_free()
    {
        var expectedAt = Ahead(TimeSpan.FromDays(1));

        // 18 beds for men (Jade 6, Den Haag 12); 10 groups of 3 and 20 single placements ask for them at once.
        var groups = Enumerable.Range(0, 10).Select(i => Client.Shelter().RequestLargeGroupShelterAsync(
            LargeGroup($"race-group-{i}", expectedAt, TimeSpan.FromDays(3), "GM0518", (ShelterCategory.AdultMen, 3)), As("inspectorate")).ResponseAsync).ToList();
        var singles = Enumerable.Range(0, 20).Select(i => Client.Shelter().RequestPlacementAsync(
            Placement($"race-single-{i}", ShelterCategory.AdultMen, $"reg-race-single-{i}"), As("comensha")).ResponseAsync).ToList();
        var arrangements = (await Task.WhenAll(groups)).Select(r => r.Arrangement).ToList();
        var placements = (await Task.WhenAll(singles)).Select(r => r.Placement).ToList();
        var jade = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);
        var denHaag = await BedsAsync("shelter-social-den-haag", ShelterCategory.AdultMen);

        int HeldAt(string shelterId) =>
            arrangements.SelectMany(a => a.Allocations).Where(a => a.ShelterId == shelterId).Sum(a => a.Places)
            + placements.Count(p => p.State == PlacementState.Held && p.ShelterId == shelterId);

        Assert.Equal(18, HeldAt("shelter-jade") + HeldAt("shelter-social-den-haag"));
        Assert.Equal((6, 0), (jade.ReservedBeds, jade.AvailableBeds));
        Assert.Equal((12, 0), (denHaag.ReservedBeds, denHaag.AvailableBeds));
        Assert.Equal(6, HeldAt("shelter-jade"));
        Assert.All(arrangements, a => Assert.Equal(
            a.Allocations.Sum(x => x.Places) switch { 3 => LargeGroupState.Arranged, 0 => LargeGroupState.NotArranged, _ => LargeGroupState.PartiallyArranged },
            a.State));
    }

    [Fact]
    public async Task A_placement_request_is_told_to_the_chain_once_with_the_bed_held_or_the_list_it_waits_on()
    {
        await OneAdultMensBedLeftAsync();
        var request = Placement("told-1", ShelterCategory.AdultMen, "reg-told-1");

        var held = (await Client.Shelter().RequestPlacementAsync(request, As("comensha"))).Placement;
        var again = await Client.Shelter().RequestPlacementAsync(request, As("comensha"));
        var waiting = (await Client.Shelter().RequestPlacementAsync(Placement("told-2", ShelterCategory.AdultMen, "reg-told-2"), As("comensha"))).Placement;

        Assert.True(again.Duplicate);
        await Eventually.SucceedsAsync(() =>
        {
            var first = Assert.Single(Events.Requested, e => e.RegistrationId == "reg-told-1");
            var second = Assert.Single(Events.Requested, e => e.RegistrationId == "reg-told-2");
            Assert.Equal((held.PlacementId, PlacementState.Held, WaitingList.Unspecified, PlacementUrgency.Immediate), (first.PlacementId, first.State, first.WaitingList, first.Urgency));
            Assert.Equal((waiting.PlacementId, PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter), (second.PlacementId, second.State, second.WaitingList));
            Assert.Equal(held.RequestedAt, first.OccurredAt);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task With_nothing_to_release_the_expiry_job_does_not_wait_for_the_capacity_turn()
    {
        await using var holder = Host.Services.CreateAsyncScope();
        await using var change = await holder.ServiceProvider.GetRequiredService<CapacityBoard>().BeginChangeAsync(CancellationToken.None);
        await using var holds = Host.Services.CreateAsyncScope();
        await using var groups = Host.Services.CreateAsyncScope();

        // Another change holds the turn (a placement being decided); the job finds nothing to release and must not queue behind it.
        var expired = holds.ServiceProvider.GetRequiredService<Placements>().ExpireHoldsAsync(CancellationToken.None);
        var ended = groups.ServiceProvider.GetRequiredService<LargeGroups>().ReleaseEndedAsync(CancellationToken.None);
        var both = Task.WhenAll(expired, ended);
        var first = await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(10)));

        Assert.Same(both, first);
        Assert.Equal((0, 0), (await expired, await ended));
    }

    [Fact]
    public async Task Changes_past_the_retention_are_purged_except_each_shelters_latest_and_a_watch_resumed_from_before_is_refused()
    {
        var first = await ReportAsync(Client, "shelter-pmw", Beds(ShelterCategory.Cosm, 25, 1));
        var second = await ReportAsync(Client, "shelter-pmw", Beds(ShelterCategory.Cosm, 25, 2));
        var acm = await ReportAsync(Client, "shelter-acm", Beds(ShelterCategory.Cosm, 25, 3));
        Clock.Advance(new CapacityWatchOptions().ChangeRetention + TimeSpan.FromHours(1));
        var fresh = await ReportAsync(Client, "shelter-pmw", Beds(ShelterCategory.Cosm, 25, 4));

        // The purge job: pmw's first two changes are past the retention and pmw changed since; acm's is still its latest.
        await Eventually.SucceedsAsync(async () =>
        {
            await using var scope = Host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ShelterDbContext>();
            Assert.Equal([acm.Version, fresh.Version], await db.CapacityChanges.OrderBy(c => c.Version).Select(c => c.Version).ToListAsync());
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var stale = Client.Shelter().WatchCapacity(new WatchCapacityRequest { ResumeAfterVersion = first.Version }, As("comensha"));
        var refused = await Assert.ThrowsAsync<RpcException>(() => stale.ResponseStream.MoveNext(timeout.Token));
        using var resumed = Client.Shelter().WatchCapacity(new WatchCapacityRequest { ResumeAfterVersion = second.Version }, As("comensha"));
        var heard = new List<CapacitySnapshot>();
        for (var i = 0; i < 2; i++)
        {
            Assert.True(await resumed.ResponseStream.MoveNext(timeout.Token));
            heard.Add(resumed.ResponseStream.Current.Capacity);
        }

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains($"resume from a version no older than {second.Version}", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal([acm.Version, fresh.Version], heard.Select(s => s.Version));
        Assert.Equal([3, 4], heard.Select(s => s.Beds.Single(b => b.Category == ShelterCategory.Cosm).OccupiedBeds));
    }
}

/// <summary>The embedded profile: one SQLite file shared by the replicas of a test.</summary>
public sealed class SqliteShelterTests : ShelterScenarios
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-shelter-").FullName;

    protected override Dictionary<string, string?> DatabaseSettings() => ComponentHost.EmbeddedSettings(new ShelterComponent(), _directory);

    protected override Task DropDatabaseAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The real profile's database: PostgreSQL, a database of its own per test.</summary>
public sealed class PostgresShelterTests : ShelterScenarios
{
    private TestDatabase _database = null!;

    protected override Dictionary<string, string?> DatabaseSettings() => _database.Settings("Database");

    protected override async Task CreateDatabaseAsync() => _database = await TestDatabase.CreateAsync("shelter");

    protected override async Task DropDatabaseAsync() => await _database.DisposeAsync();
}
