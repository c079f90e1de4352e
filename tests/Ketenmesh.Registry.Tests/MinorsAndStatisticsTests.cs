using Chain.Common.V1;
using Chain.Registry.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>
/// Minors (the flag, Nidos, protected shelter) and the Rapporteur's dimensions (sex, age band,
/// aangifte; no NOT_A_VICTIM closures), on SQLite and on PostgreSQL alike: the stored record and the
/// statistics read back from it must not depend on the database.
/// </summary>
public abstract class MinorsAndStatisticsTests : IAsyncLifetime
{
    private readonly MovableClock _clock = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RegistryEvents _events = new();
    private ComponentHost _host = null!;

    private GrpcChannel Client => _host.Channel;

    /// <summary>The registry's database settings (and whatever the database needs cleaned up afterwards).</summary>
    protected abstract Task<(Dictionary<string, string?> Settings, string? Directory)> DatabaseAsync(RegistryComponent component);

    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var component = new RegistryComponent();
        var (settings, directory) = await DatabaseAsync(component);
        settings["Messaging:Transport"] = "InMemory";
        _host = await ComponentHost.StartAsync(component, settings, (services, bus) =>
        {
            services.AddSingleton<TimeProvider>(_clock);
            services.AddSingleton(_events);
            bus.AddConsumer<RegistryEventsProbe>();
        }, directory);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await DropDatabaseAsync();
    }

    private static Nationality Documented(string code) => new() { CountryCode = code, Basis = NationalityBasis.Documented };

    private async Task<Registration> RegisterAsAsync(string partner, string requestId, PersonProfile person) =>
        (await Client.Registry().RegisterVictimAsync(new RegisterVictimRequest
        {
            ClientRequestId = requestId,
            InitialStatus = VictimStatus.Possible,
            Person = person,
            Exploitation = new ExploitationProfile { Form = FormOfExploitation.Sexual },
            LinkKeys = { Key() },
        }, As(partner))).Registration;

    private async Task<GetStatisticsResponse> StatisticsAsync(params StatisticsDimension[] groupBy) =>
        await Client.Registry().GetStatisticsAsync(new GetStatisticsRequest { YearFrom = 2025, YearTo = 2025, GroupBy = { groupBy } }, As("rapporteur"));

    [Fact]
    public async Task A_person_under_18_at_registration_is_a_minor_whenever_the_exploitation_began()
    {
        var sixteenNow = await RegisterAsync(Client, "now-16", new PersonProfile { AgeAtRegistration = 16 });
        var sixteenNowFifteenThen = await RegisterAsync(Client, "now-16-then-15", new PersonProfile { AgeAtRegistration = 16, AgeAtExploitationStart = 15 });
        var sixteenThen = await RegisterAsync(Client, "now-19-then-16", new PersonProfile { AgeAtRegistration = 19, AgeAtExploitationStart = 16 });
        var adult = await RegisterAsync(Client, "now-30-then-25", new PersonProfile { AgeAtRegistration = 30, AgeAtExploitationStart = 25 });

        var stored = (await Client.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = sixteenNow.RegistrationId }, As("comensha"))).Registration;

        Assert.True(sixteenNow.Person.Minor);
        Assert.True(stored.Person.Minor);
        Assert.True(sixteenNowFifteenThen.Person.Minor);
        Assert.True(sixteenThen.Person.Minor);
        Assert.False(adult.Person.Minor);
    }

    [Fact]
    public async Task Nidos_registers_and_reads_minors_but_is_refused_adults_without_learning_they_exist()
    {
        var minor = await RegisterAsAsync("nidos", "nidos-1", new PersonProfile { AgeAtRegistration = 15, Nationalities = { Documented("ER") } });
        var adultByComensha = await RegisterAsAsync("comensha", "comensha-adult", new PersonProfile { AgeAtRegistration = 24, Nationalities = { Documented("ER") } });
        var minorByComensha = await RegisterAsAsync("comensha", "comensha-minor", new PersonProfile { Minor = true });

        var adultByNidos = await Assert.ThrowsAsync<RpcException>(() => RegisterAsAsync("nidos", "nidos-2", new PersonProfile { AgeAtRegistration = 19 }));
        var unknownAge = await Assert.ThrowsAsync<RpcException>(() => RegisterAsAsync("nidos", "nidos-3", new PersonProfile()));
        var readMinor = (await Client.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = minorByComensha.RegistrationId }, As("nidos"))).Registration;
        var readAdult = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = adultByComensha.RegistrationId }, As("nidos")));
        var readNothing = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = "reg-00000000000000000000000000000000" }, As("nidos")));

        Assert.True(minor.Person.Minor);
        Assert.Equal(PartnerType.Nidos, minor.ReporterPartner);
        Assert.Equal(StatusCode.PermissionDenied, adultByNidos.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, unknownAge.StatusCode);
        Assert.Equal(minorByComensha.RegistrationId, readMinor.RegistrationId);
        // An adult's registration reads to Nidos exactly as one that does not exist.
        Assert.Equal(StatusCode.NotFound, readAdult.StatusCode);
        Assert.Equal(readNothing.Status.Detail.Replace("reg-00000000000000000000000000000000", "ID"), readAdult.Status.Detail.Replace(adultByComensha.RegistrationId, "ID"));
    }

    [Fact]
    public async Task Nidos_hears_of_no_adult_sharing_a_key_with_the_minor_it_registers()
    {
        var shared = Key(LinkKeyKind.PhoneNumber);
        var adult = await RegisterAsync(Client, "adult-phone", new PersonProfile { AgeAtRegistration = 30 }, null, VictimStatus.Possible, shared);
        var minor = await RegisterAsync(Client, "minor-phone", new PersonProfile { AgeAtRegistration = 14 }, null, VictimStatus.Possible, shared);

        var byNidos = await Client.Registry().RegisterVictimAsync(new RegisterVictimRequest
        {
            ClientRequestId = "nidos-phone", InitialStatus = VictimStatus.Possible, Person = new PersonProfile { AgeAtRegistration = 14 }, LinkKeys = { shared },
        }, As("nidos"));
        var byComensha = await Client.Registry().RegisterVictimAsync(new RegisterVictimRequest
        {
            ClientRequestId = "comensha-phone", InitialStatus = VictimStatus.Possible, Person = new PersonProfile { AgeAtRegistration = 14 }, LinkKeys = { shared },
        }, As("comensha"));

        Assert.Equal([minor.RegistrationId], byNidos.PossibleMatches.Select(m => m.RegistrationId));
        Assert.Contains(byComensha.PossibleMatches, m => m.RegistrationId == adult.RegistrationId);
    }

    private async Task<ListWardsResponse> WardsAsync(string partner, ListWardsRequest? request = null) =>
        await Client.Registry().ListWardsAsync(request ?? new ListWardsRequest(), As(partner));

    private async Task<Registration> RegisterLaterAsync(string partner, string requestId, PersonProfile person)
    {
        // Each a minute after the last, so the newest-first order is the order of registering.
        _clock.Advance(TimeSpan.FromMinutes(1));
        return await RegisterAsAsync(partner, requestId, person);
    }

    [Fact]
    public async Task Nidos_lists_a_foreign_minor_the_police_registered_but_no_adult_or_Dutch_minor_and_no_other_partner_lists_anyone()
    {
        var byPolice = await RegisterLaterAsync("police", "w-police-16", new PersonProfile { AgeAtRegistration = 16, Nationalities = { Documented("ER") } });
        var byKmar = await RegisterLaterAsync("kmar", "w-kmar-10", new PersonProfile { AgeAtRegistration = 10, Nationalities = { Documented("NG") } });
        var adult = await RegisterLaterAsync("police", "w-police-adult", new PersonProfile { AgeAtRegistration = 25, Nationalities = { Documented("ER") } });
        var dutch = await RegisterLaterAsync("comensha", "w-comensha-nl", new PersonProfile { AgeAtRegistration = 15, Nationalities = { Documented("NL") } });

        var nidos = await WardsAsync("nidos");
        var others = new[] { "comensha", "police", "kmar", "care" }.Select(p => (Partner: p, Wards: WardsAsync(p))).ToList();

        // Newest first; a child under 13 goes to a Nidos foster family, not to protected shelter (001 L6199–6200).
        Assert.Equal([byKmar.RegistrationId, byPolice.RegistrationId], nidos.Wards.Select(w => w.RegistrationId));
        Assert.Equal([false, true], nidos.Wards.Select(w => w.ProtectedShelterNeeded));
        Assert.Equal(byPolice.RegisteredAt, nidos.Wards[1].RegisteredAt);
        Assert.Empty(nidos.NextPageToken);
        Assert.DoesNotContain(nidos.Wards, w => w.RegistrationId == adult.RegistrationId || w.RegistrationId == dutch.RegistrationId);
        foreach (var (partner, wards) in others)
        {
            Assert.True((await wards).Wards.Count == 0, $"{partner} listed wards");
        }
        // What Nidos lists it may read.
        foreach (var ward in nidos.Wards)
        {
            await Client.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = ward.RegistrationId }, As("nidos"));
        }
    }

    [Fact]
    public async Task Nidos_pages_through_its_wards_from_a_moment_on_and_a_minor_found_Dutch_leaves_the_list()
    {
        var first = await RegisterLaterAsync("police", "wp-1", new PersonProfile { AgeAtRegistration = 14, Nationalities = { Documented("AF") } });
        var second = await RegisterLaterAsync("comensha", "wp-2", new PersonProfile { Minor = true });
        var third = await RegisterLaterAsync("kmar", "wp-3", new PersonProfile { AgeAtRegistration = 17, Nationalities = { Documented("VN") } });

        var page1 = await WardsAsync("nidos", new ListWardsRequest { PageSize = 2 });
        var page2 = await WardsAsync("nidos", new ListWardsRequest { PageSize = 2, PageToken = page1.NextPageToken });
        var sinceFirst = await WardsAsync("nidos", new ListWardsRequest { RegisteredAfter = first.RegisteredAt });
        var badToken = await Assert.ThrowsAsync<RpcException>(async () => await WardsAsync("nidos", new ListWardsRequest { PageToken = "not-a-token" }));
        var tooMany = await Assert.ThrowsAsync<RpcException>(async () => await WardsAsync("nidos", new ListWardsRequest { PageSize = 101 }));
        await Client.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = second.RegistrationId, Residence = new ResidenceStatus { LegalStay = LegalStay.DutchNational },
        }, As("ind"));
        var afterDutch = await WardsAsync("nidos");

        Assert.Equal([third.RegistrationId, second.RegistrationId], page1.Wards.Select(w => w.RegistrationId));
        Assert.NotEmpty(page1.NextPageToken);
        Assert.Equal([first.RegistrationId], page2.Wards.Select(w => w.RegistrationId));
        Assert.Empty(page2.NextPageToken);
        Assert.Equal([third.RegistrationId, second.RegistrationId], sinceFirst.Wards.Select(w => w.RegistrationId));
        Assert.Equal(StatusCode.InvalidArgument, badToken.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, tooMany.StatusCode);
        // A Dutch child has parents or youth care, not a Nidos guardian: the list follows the record.
        Assert.Equal([third.RegistrationId, first.RegistrationId], afterDutch.Wards.Select(w => w.RegistrationId));
    }

    [Fact]
    public async Task A_foreign_minors_registration_tells_Nidos_and_asks_for_protected_shelter()
    {
        var sixteen = await RegisterAsync(Client, "amv-16", new PersonProfile { AgeAtRegistration = 16, Nationalities = { Documented("ER") } });
        var ten = await RegisterAsync(Client, "amv-10", new PersonProfile { AgeAtRegistration = 10, Nationalities = { Documented("NG") } });
        var ageUnknown = await RegisterAsync(Client, "amv-suspected", new PersonProfile { Minor = true });
        var dutch = await RegisterAsync(Client, "nl-16", new PersonProfile { AgeAtRegistration = 16, Nationalities = { Documented("NL") } });
        var adult = await RegisterAsync(Client, "adult", new PersonProfile { AgeAtRegistration = 25, Nationalities = { Documented("ER") } });

        Chain.Events.V1.VictimRegistered Heard(Registration r) => _events.Registered.Single(e => e.RegistrationId == r.RegistrationId);
        await EventuallyAsync(() => _events.Registered.FirstOrDefault(e => e.RegistrationId == adult.RegistrationId));
        foreach (var r in new[] { sixteen, ten, ageUnknown, dutch })
        {
            await EventuallyAsync(() => _events.Registered.FirstOrDefault(e => e.RegistrationId == r.RegistrationId));
        }

        Assert.True(Heard(sixteen).Minor);
        Assert.Equal(PartnerType.Nidos, Heard(sixteen).Guardian);
        Assert.True(Heard(sixteen).ProtectedShelterNeeded);
        // Twelve and younger: Nidos places the child with a foster family, not in protected shelter.
        Assert.Equal(PartnerType.Nidos, Heard(ten).Guardian);
        Assert.False(Heard(ten).ProtectedShelterNeeded);
        Assert.Equal(PartnerType.Nidos, Heard(ageUnknown).Guardian);
        Assert.True(Heard(ageUnknown).ProtectedShelterNeeded);
        Assert.True(Heard(dutch).Minor);
        Assert.Equal(PartnerType.Unspecified, Heard(dutch).Guardian);
        Assert.False(Heard(dutch).ProtectedShelterNeeded);
        Assert.False(Heard(adult).Minor);
        Assert.Equal(PartnerType.Unspecified, Heard(adult).Guardian);
        Assert.False(Heard(adult).ProtectedShelterNeeded);
    }

    [Fact]
    public async Task Registrations_closed_as_not_a_victim_are_not_counted()
    {
        var registrations = new List<Registration>();
        for (var i = 0; i < 7; i++)
        {
            registrations.Add(await RegisterAsync(Client, $"p-{i}"));
        }
        await Client.Registry().ChangeStatusAsync(new ChangeStatusRequest
        {
            RegistrationId = registrations[0].RegistrationId, NewStatus = VictimStatus.Closed, ClosureReason = RegistrationClosureReason.NotAVictim,
        }, As("comensha"));
        await Client.Registry().ChangeStatusAsync(new ChangeStatusRequest
        {
            RegistrationId = registrations[1].RegistrationId, NewStatus = VictimStatus.Closed, ClosureReason = RegistrationClosureReason.CareCompleted,
        }, As("comensha"));

        var total = Assert.Single((await StatisticsAsync()).Cells);

        // Seven registered, one found not to be a victim; one whose care ended still counts.
        Assert.False(total.Suppressed);
        Assert.Equal(6, total.Count);
    }

    [Fact]
    public async Task Statistics_break_down_by_sex_age_band_at_registration_and_aangifte()
    {
        var today = DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime);
        // Twelve women of 16, 19, 27, 35 and 50 with aangifte made; six men of 20 without a recorded aangifte.
        int[] womensAges = [16, 16, 16, 16, 16, 19, 27, 35, 50, 50, 50, 50];
        for (var i = 0; i < womensAges.Length; i++)
        {
            var woman = await RegisterAsync(Client, $"w-{i}", new PersonProfile { Sex = Sex.Female, AgeAtRegistration = womensAges[i] });
            await Client.Registry().RecordAangifteStatusAsync(new RecordAangifteStatusRequest
            {
                RegistrationId = woman.RegistrationId, AangifteStatus = AangifteStatus.Made, StatusOn = Day(today),
            }, As("police"));
        }
        for (var i = 0; i < 6; i++)
        {
            await RegisterAsync(Client, $"m-{i}", new PersonProfile { Sex = Sex.Male, AgeAtRegistration = 20 });
        }
        await RegisterAsync(Client, "unknown", new PersonProfile());

        var bySex = await StatisticsAsync(StatisticsDimension.Sex);
        var byAge = await StatisticsAsync(StatisticsDimension.AgeBand);
        var byAangifte = await StatisticsAsync(StatisticsDimension.Aangifte);
        var bySexAndAangifte = await StatisticsAsync(StatisticsDimension.Sex, StatisticsDimension.Aangifte);
        var mixed = await Assert.ThrowsAsync<RpcException>(() => StatisticsAsync(StatisticsDimension.Sex, StatisticsDimension.Nationality));

        Assert.Equal(12, bySex.Cells.Single(c => c.Sex == Sex.Female).Count);
        Assert.True(bySex.Cells.Single(c => c.Sex == Sex.Unknown).Suppressed);
        // Male (6) is withheld too, or 19 minus 12 would give away the one of unknown sex.
        Assert.True(bySex.Cells.Single(c => c.Sex == Sex.Male).Suppressed);
        Assert.All(bySex.Cells, c => Assert.Equal(AgeBand.Unspecified, c.AgeBand));
        Assert.Equal(5, byAge.Cells.Single(c => c.AgeBand == AgeBand.From15To17).Count);
        Assert.Equal(7, byAge.Cells.Single(c => c.AgeBand == AgeBand.From18To23).Count);
        Assert.True(byAge.Cells.Single(c => c.AgeBand == AgeBand.From24To30).Suppressed);
        Assert.True(byAge.Cells.Single(c => c.AgeBand == AgeBand.Unknown).Suppressed);
        Assert.DoesNotContain(byAge.Cells, c => c.AgeBand == AgeBand.Under15);
        Assert.Equal(12, byAangifte.Cells.Single(c => c.AangifteStatus == AangifteStatus.Made).Count);
        Assert.Equal(7, byAangifte.Cells.Single(c => c.AangifteStatus == AangifteStatus.Unknown).Count);
        Assert.Equal(12, bySexAndAangifte.Cells.Single(c => c is { Sex: Sex.Female, AangifteStatus: AangifteStatus.Made }).Count);
        Assert.Equal(StatusCode.InvalidArgument, mixed.StatusCode);
        Assert.Contains("group_by", mixed.Status.Detail);
    }
}

/// <summary>On SQLite, the embedded profile.</summary>
public sealed class MinorsAndStatisticsOnSqliteTests : MinorsAndStatisticsTests
{
    protected override Task<(Dictionary<string, string?> Settings, string? Directory)> DatabaseAsync(RegistryComponent component)
    {
        var directory = Directory.CreateTempSubdirectory("ketenmesh-registry-").FullName;
        return Task.FromResult<(Dictionary<string, string?>, string?)>((ComponentHost.EmbeddedSettings(component, directory), directory));
    }
}

/// <summary>On PostgreSQL, the database the registry runs on in production.</summary>
public sealed class MinorsAndStatisticsOnPostgresTests : MinorsAndStatisticsTests
{
    private TestDatabase? _database;

    protected override async Task<(Dictionary<string, string?> Settings, string? Directory)> DatabaseAsync(RegistryComponent component)
    {
        _database = await TestDatabase.CreateAsync("registry");
        return (_database.Settings("Database"), null);
    }

    protected override async Task DropDatabaseAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
