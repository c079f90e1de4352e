using Chain.Common.V1;
using Chain.Registry.V1;
using Chain.Shelter.V1;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Ketenmesh.Contracts;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Registry;
using Ketenmesh.Shelter;
using Ketenmesh.Shelter.Domain;
using Ketenmesh.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// Shelter capacity on the real profile, as partners call it: the victim registry and the shelter service each on
/// its own PostgreSQL database with RabbitMQ between them, shelters, CoMensha, the police and a municipality calling
/// the gateway with tokens and purposes under the seeded policy. What the shelter service knows of a person for COSM
/// admission it learns from the registry's events only. The shelter service runs on a clock the test moves.
/// </summary>
public sealed class RealProfileShelterTests : IAsyncLifetime
{
    private readonly MovableClock _clock = new(DateTimeOffset.UtcNow);
    private RealProfile _profile = null!;
    private ComponentHost _registry = null!;
    private ComponentHost _shelter = null!;
    private GatewayMesh _mesh = null!;

    private static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    public async Task InitializeAsync()
    {
        _profile = await RealProfile.CreateAsync();
        var gatewayPort = GatewayMesh.ReservePort(_profile);
        _registry = await ComponentHost.StartAsync(new RegistryComponent(), (await _profile.ServiceAsync("registry")).Settings);
        _shelter = await ComponentHost.StartAsync(new ShelterComponent(), (await _profile.ServiceAsync("shelter")).Settings,
            (services, _) => services.AddSingleton<TimeProvider>(_clock));
        _mesh = await GatewayMesh.InFrontOfAsync(_profile, gatewayPort, ("registry", _registry), ("shelter", _shelter));
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _shelter.DisposeAsync();
        await _registry.DisposeAsync();
        await _profile.DisposeAsync();
    }

    /// <summary>Each partner calls under the purpose its seeded shelter grant names.</summary>
    private CallOptions As(string partner) => GatewayMesh.Options(_mesh.As(partner, partner switch
    {
        "police" => "criminal_investigation",
        "municipality" => "administrative_enforcement",
        _ => "victim_care",
    }));

    private ShelterCapacity.ShelterCapacityClient Shelter => new(_mesh.Channel);

    private async Task<CapacitySnapshot> ReportAsync(string shelterId, ShelterCategory category, int total, int occupied)
    {
        var current = (await Shelter.GetCapacityAsync(new GetCapacityRequest { ShelterId = shelterId }, As(shelterId))).Overview.Capacity;
        return (await Shelter.ReportCapacityAsync(new ReportCapacityRequest
        {
            ExpectedVersion = current.Version,
            Beds = { new BedCount { Category = category, TotalBeds = total, OccupiedBeds = occupied } },
        }, As(shelterId))).Capacity;
    }

    private static RequestPlacementRequest Placement(string requestId, ShelterCategory category, string registrationId) => new()
    {
        ClientRequestId = requestId,
        RegistrationId = registrationId,
        Needs = new PlacementNeeds
        {
            Category = category,
            Urgency = PlacementUrgency.Immediate,
            // A COSM request says which bed it needs when not admitted.
            FallbackCategory = category == ShelterCategory.Cosm ? ShelterCategory.AdultWomen : ShelterCategory.Unspecified,
        },
    };

    private async Task OneAdultMensBedLeftAsync()
    {
        await ReportAsync("shelter-social-den-haag", ShelterCategory.AdultMen, 12, 12);
        await ReportAsync("shelter-jade", ShelterCategory.AdultMen, 1, 0);
    }

    private async Task<BedCount> BedsAsync(string shelterId, ShelterCategory category) =>
        (await Shelter.GetCapacityAsync(new GetCapacityRequest { ShelterId = shelterId }, As("comensha"))).Overview.Capacity.Beds.Single(b => b.Category == category);

    /// <summary>CoMensha registers a person, as the registry's own partners would; the shelter service hears of it by event.</summary>
    private async Task<string> RegisterAsync(string requestId, int age, string nationality) =>
        (await _mesh.Channel.Registry().RegisterVictimAsync(new RegisterVictimRequest
        {
            ClientRequestId = requestId,
            InitialStatus = VictimStatus.Possible,
            Person = new PersonProfile { Sex = Sex.Female, AgeAtRegistration = age, Nationalities = { new Nationality { CountryCode = nationality } } },
            LinkKeys = { new PersonLinkKey { Kind = LinkKeyKind.TravelDocument, KeyedHash = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), KeyId = "chain-2026-1" } },
        }, As("comensha"))).Registration.RegistrationId;

    private async Task<Registration> StartReflectionPeriodAsync(string registrationId) =>
        (await _mesh.Channel.Registry().StartReflectionPeriodAsync(new StartReflectionPeriodRequest { RegistrationId = registrationId, StartOn = Today.ToDate() },
            GatewayMesh.Options(_mesh.As("police", "criminal_investigation")))).Registration;

    [Fact]
    public async Task Through_the_gateway_two_hundred_parallel_requests_for_the_last_bed_hold_it_exactly_once()
    {
        await OneAdultMensBedLeftAsync();

        // As the service asks a client to: an UNAVAILABLE (its database pool spent under 200 at once on a loaded machine)
        // is retried with backoff under the same client_request_id, which is stored once.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    return await Shelter.RequestPlacementAsync(Placement($"rp-race-{i}", ShelterCategory.AdultMen, $"reg-rp-race-{i}"), As("comensha"));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && attempt < 5)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 << attempt));
                }
            }
        }));
        var men = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);

        Assert.Equal("shelter-jade", Assert.Single(attempts, a => a.Placement.State == PlacementState.Held).Placement.ShelterId);
        Assert.Equal(199, attempts.Count(a => a.Placement.State == PlacementState.Waitlisted));
        Assert.Equal((1, 0, 1, 0), (men.TotalBeds, men.OccupiedBeds, men.ReservedBeds, men.AvailableBeds));
    }

    [Fact]
    public async Task Through_the_gateway_a_hold_not_confirmed_in_time_expires_on_a_moved_clock()
    {
        await OneAdultMensBedLeftAsync();
        var held = (await Shelter.RequestPlacementAsync(Placement("rp-expire-1", ShelterCategory.AdultMen, "reg-rp-expire"), As("comensha"))).Placement;
        var whileHeld = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);

        _clock.Advance(new PlacementOptions().HoldDuration + TimeSpan.FromMinutes(1));

        Placement? expired = null;
        await Eventually.SucceedsAsync(async () =>
        {
            expired = (await Shelter.GetPlacementAsync(new GetPlacementRequest { PlacementId = held.PlacementId }, As("comensha"))).Placement;
            Assert.Equal(PlacementState.Expired, expired.State);
        }, TimeSpan.FromSeconds(60));
        var late = await Assert.ThrowsAsync<RpcException>(() => Shelter.RecordPlacementDecisionAsync(new RecordPlacementDecisionRequest
        {
            PlacementId = held.PlacementId, NewState = PlacementState.Placed, ExpectedVersion = expired!.Version,
        }, As("shelter-jade")).ResponseAsync);
        var freed = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);

        Assert.Equal(PlacementState.Held, held.State);
        Assert.Equal((1, 0), (whileHeld.ReservedBeds, whileHeld.AvailableBeds));
        Assert.Equal(StatusCode.FailedPrecondition, late.StatusCode);
        Assert.Equal((0, 1), (freed.ReservedBeds, freed.AvailableBeds));
    }

    [Fact]
    public async Task Through_the_gateway_the_capacity_watch_delivers_every_change_in_order_and_resumes_with_no_gap()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var first = Shelter.WatchCapacity(new WatchCapacityRequest { ShelterIds = { "shelter-pmw", "shelter-acm" } }, As("comensha"));
        await first.ResponseHeadersAsync;
        for (var i = 0; i < 2; i++)
        {
            Assert.True(await first.ResponseStream.MoveNext(timeout.Token));
            Assert.True(first.ResponseStream.Current.Initial);
        }
        var reported = new List<long>();
        var live = new List<CapacitySnapshot>();
        foreach (var occupied in new[] { 1, 2, 3 })
        {
            reported.Add((await ReportAsync("shelter-pmw", ShelterCategory.Cosm, 25, occupied)).Version);
            Assert.True(await first.ResponseStream.MoveNext(timeout.Token));
            live.Add(first.ResponseStream.Current.Capacity);
        }
        first.Dispose();
        // While the watcher is away: changes to a watched shelter, and one to a shelter it does not watch.
        reported.Add((await ReportAsync("shelter-acm", ShelterCategory.Cosm, 25, 7)).Version);
        await ReportAsync("shelter-fier", ShelterCategory.Minors, 12, 3);
        reported.Add((await ReportAsync("shelter-pmw", ShelterCategory.Cosm, 25, 4)).Version);

        using var resumed = Shelter.WatchCapacity(new WatchCapacityRequest { ShelterIds = { "shelter-pmw", "shelter-acm" }, ResumeAfterVersion = live[^1].Version }, As("comensha"));
        for (var i = 0; i < 2; i++)
        {
            Assert.True(await resumed.ResponseStream.MoveNext(timeout.Token));
            Assert.False(resumed.ResponseStream.Current.Initial);
            live.Add(resumed.ResponseStream.Current.Capacity);
        }

        Assert.Equal(reported, live.Select(s => s.Version));
        Assert.Equal([1, 2, 3, 7, 4], live.Select(s => s.Beds.Single(b => b.Category == ShelterCategory.Cosm).OccupiedBeds));
        Assert.Equal(["shelter-pmw", "shelter-pmw", "shelter-pmw", "shelter-acm", "shelter-pmw"], live.Select(s => s.ShelterId));
    }

    [Fact]
    public async Task Through_the_gateway_COSM_admission_follows_the_registrys_facts_as_they_change()
    {
        var adult = await RegisterAsync("rp-cosm-adult", 24, "NG");
        var minor = await RegisterAsync("rp-cosm-minor", 16, "NG");
        await StartReflectionPeriodAsync(adult);

        // Until she makes aangifte, COSM admits her; the shelter service hears of each change from the registry, often
        // after the request: a request waits on the COSM list until the facts decide it.
        var admitted = await RequestCosmAsync("rp-cosm-adult-1", adult, p => p.State == PlacementState.Held);
        var minorRefused = await RequestCosmAsync("rp-cosm-minor", minor, p => p.IneligibilityReasons.Contains(CosmIneligibility.Minor));
        // No COSM bed left from here on: the next request waits on the list whichever facts the shelter service has
        // heard by then, and is decided again when the aangifte reaches it.
        foreach (var cosmShelter in new[] { "shelter-pmw", "shelter-acm", "shelter-jade" })
        {
            var beds = await BedsAsync(cosmShelter, ShelterCategory.Cosm);
            await ReportAsync(cosmShelter, ShelterCategory.Cosm, beds.TotalBeds, beds.TotalBeds - beds.ReservedBeds);
        }
        await _mesh.Channel.Registry().RecordAangifteStatusAsync(new RecordAangifteStatusRequest
        {
            RegistrationId = adult, AangifteStatus = AangifteStatus.Made, StatusOn = Today.ToDate(),
        }, GatewayMesh.Options(_mesh.As("police", "criminal_investigation")));
        var afterAangifte = await RequestCosmAsync("rp-cosm-adult-2", adult, p => p.IneligibilityReasons.Contains(CosmIneligibility.AangifteMade));

        Assert.Equal(PlacementState.Held, admitted.State);
        Assert.True(admitted.CosmEligible);
        Assert.Empty(admitted.IneligibilityReasons);
        Assert.False(minorRefused.CosmEligible);
        Assert.Equal((PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter), (minorRefused.State, minorRefused.WaitingList));
        Assert.False(afterAangifte.CosmEligible);
        Assert.Equal((PlacementState.Waitlisted, WaitingList.WomensOrSocialShelter), (afterAangifte.State, afterAangifte.WaitingList));
    }

    [Fact]
    public async Task Through_the_gateway_COSM_refuses_a_Dutch_national_someone_outside_the_reflection_period_and_someone_once_in_asylum_each_for_that_reason()
    {
        var outsidePeriod = await RegisterAsync("rp-cosm-no-period", 30, "RO");
        var dutch = await RegisterAsync("rp-cosm-dutch", 30, "NL");
        await _mesh.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = dutch,
            Residence = new ResidenceStatus { LegalStay = LegalStay.DutchNational },
        }, GatewayMesh.Options(_mesh.As("ind", "residence")));
        var asylum = await RegisterAsync("rp-cosm-asylum", 30, "ER");
        // Asylum first, then the period: whichever of the two the shelter service has heard, she is never admitted.
        await _mesh.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = asylum,
            Residence = new ResidenceStatus { LegalStay = LegalStay.AsylumSeeker },
        }, GatewayMesh.Options(_mesh.As("ind", "residence")));
        await StartReflectionPeriodAsync(asylum);

        var refusedOutsidePeriod = await RequestCosmAsync("rp-cosm-no-period", outsidePeriod, p => p.IneligibilityReasons.Count > 0);
        var refusedDutch = await RequestCosmAsync("rp-cosm-dutch", dutch, p => p.IneligibilityReasons.Contains(CosmIneligibility.DutchNational));
        var refusedAsylum = await RequestCosmAsync("rp-cosm-asylum", asylum, p => p.IneligibilityReasons.SequenceEqual([CosmIneligibility.EarlierAsylumProcedure]));

        // Each refused for its own criterion, and no other of the five but one that follows from it: a Dutch national
        // has no reflection period (it is for "de vreemdeling", L7243).
        Assert.Equal([CosmIneligibility.NotInReflectionPeriod], refusedOutsidePeriod.IneligibilityReasons);
        Assert.Equal([CosmIneligibility.DutchNational, CosmIneligibility.NotInReflectionPeriod], refusedDutch.IneligibilityReasons);
        Assert.Equal([CosmIneligibility.EarlierAsylumProcedure], refusedAsylum.IneligibilityReasons);
        Assert.All([refusedOutsidePeriod, refusedDutch, refusedAsylum], p => Assert.Equal((false, PlacementState.Waitlisted), (p.CosmEligible, p.State)));
    }

    /// <summary>Asks a COSM bed once, then reads the placement until the registry's facts have decided it.</summary>
    private async Task<Placement> RequestCosmAsync(string requestId, string registrationId, Func<Placement, bool> decided)
    {
        var requested = (await Shelter.RequestPlacementAsync(Placement(requestId, ShelterCategory.Cosm, registrationId), As("comensha"))).Placement;
        Placement? placement = null;
        await Eventually.SucceedsAsync(async () =>
        {
            placement = (await Shelter.GetPlacementAsync(new GetPlacementRequest { PlacementId = requested.PlacementId }, As("comensha"))).Placement;
            Assert.True(decided(placement));
        }, TimeSpan.FromSeconds(60));
        return placement!;
    }

    [Fact]
    public async Task Through_the_gateway_the_inspectorate_announces_a_large_group_and_sees_the_places_held_for_it()
    {
        var announced = (await Shelter.RequestLargeGroupShelterAsync(new RequestLargeGroupShelterRequest
        {
            ClientRequestId = "rp-raid-1",
            OperationReference = "op-greenhouse",
            Municipality = new Municipality { Code = "GM0114", Name = "Emmen" },
            Form = FormOfExploitation.Labour,
            ExpectedComposition = { new GroupComposition { Category = ShelterCategory.AdultMen, Persons = 4 } },
            ExpectedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(_clock.GetUtcNow().AddDays(1)),
            RequestedDuration = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromDays(13)),
        }, GatewayMesh.Options(_mesh.As("inspectorate", "criminal_investigation")))).Arrangement;
        var read = (await Shelter.GetLargeGroupArrangementAsync(new GetLargeGroupArrangementRequest { ArrangementId = announced.ArrangementId },
            GatewayMesh.Options(_mesh.As("inspectorate", "criminal_investigation")))).Arrangement;
        var police = await Assert.ThrowsAsync<RpcException>(() => Shelter.GetLargeGroupArrangementAsync(new GetLargeGroupArrangementRequest { ArrangementId = announced.ArrangementId }, As("police")).ResponseAsync);
        var jade = await BedsAsync("shelter-jade", ShelterCategory.AdultMen);

        Assert.Equal(LargeGroupState.Arranged, announced.State);
        Assert.Equal([("shelter-jade", ShelterCategory.AdultMen, 4)], announced.Allocations.Select(a => (a.ShelterId, a.Category, a.Places)));
        Assert.Equal(announced, read);
        Assert.Equal(StatusCode.PermissionDenied, police.StatusCode);
        Assert.Equal(4, jade.ReservedBeds);
    }

    [Fact]
    public async Task Through_the_gateway_bad_capacity_reports_are_refused_field_by_field_and_another_shelters_report_is_refused()
    {
        var read = (await Shelter.GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-fier" }, As("shelter-fier"))).Overview.Capacity;

        var refused = await Assert.ThrowsAsync<RpcException>(() => Shelter.ReportCapacityAsync(new ReportCapacityRequest
        {
            ExpectedVersion = read.Version,
            Beds =
            {
                new BedCount { Category = ShelterCategory.Minors, TotalBeds = -1 },
                new BedCount { Category = ShelterCategory.AdultWomen, TotalBeds = 3, OccupiedBeds = 5 },
            },
        }, As("shelter-fier")).ResponseAsync);
        var foreign = await Assert.ThrowsAsync<RpcException>(() => Shelter.ReportCapacityAsync(new ReportCapacityRequest
        {
            ShelterId = "shelter-fier",
            ExpectedVersion = read.Version,
            Beds = { new BedCount { Category = ShelterCategory.Minors, TotalBeds = 0 } },
        }, As("shelter-jade")).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal(["beds[0].total_beds", "beds[1].occupied_beds"], refused.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field));
        Assert.Equal(StatusCode.PermissionDenied, foreign.StatusCode);
        Assert.Equal(read, (await Shelter.GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-fier" }, As("comensha"))).Overview.Capacity);
    }
}
