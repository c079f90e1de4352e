using Grpc.Core;
using Chain.Common.V1;
using Chain.Registry.V1;
using Grpc.Net.Client;
using Ketenmesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>
/// The registry's legal path, linkage, consent, merging and statistics on PostgreSQL, the database it
/// runs on in production (explicit transactions, advisory locks, dates and timestamps as PostgreSQL
/// stores them), with the reflection-period watch running against a clock the test moves.
/// </summary>
public sealed class PostgresRegistryTests : IAsyncLifetime
{
    private readonly MovableClock _clock = new(DateTimeOffset.UtcNow);
    private readonly RegistryEvents _events = new();
    private TestDatabase _database = null!;
    private ComponentHost _registry = null!;

    private ChannelBase Client => _registry.Channel;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync("registry");
        var settings = _database.Settings("Database");
        settings["Messaging:Transport"] = "InMemory";
        settings["Registry:ReflectionPeriod:CheckInterval"] = "00:00:00.100";
        _registry = await ComponentHost.StartAsync(new RegistryComponent(), settings, (services, bus) =>
        {
            services.AddSingleton<TimeProvider>(_clock);
            services.AddSingleton(_events);
            bus.AddConsumer<RegistryEventsProbe>();
        });
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Legal_path_linkage_consent_merge_and_statistics_work_on_PostgreSQL()
    {
        var today = DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime);
        var first = await RegisterAsync(Client, "pg-1", new PersonProfile { AgeAtExploitationStart = 16, Nationalities = { new Nationality { CountryCode = "NG", Basis = NationalityBasis.Documented } } },
            new ExploitationProfile { Form = FormOfExploitation.Sexual });
        var second = await RegisterAsync(Client, "pg-2");

        var started = (await Client.Registry().StartReflectionPeriodAsync(new StartReflectionPeriodRequest { RegistrationId = first.RegistrationId, StartOn = Day(today), EndOn = Day(today.AddDays(20)) }, As("police"))).Registration;
        var alias = Key(LinkKeyKind.PhoneNumber);
        await Client.Registry().RecordConsentAsync(new RecordConsentRequest
        {
            ClientRequestId = "pg-consent",
            Consent = new Consent
            {
                RegistrationId = first.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Iom, RecipientPartner = PartnerType.Comensha,
                Topics = { DisclosureTopic.Return }, Form = ConsentForm.Written, GivenOn = Day(today), DocumentReference = "iom/pg",
            },
        }, As("iom"));
        var linked = (await Client.Registry().LinkRecordsAsync(new LinkRecordsRequest
        {
            RegistrationId = first.RegistrationId,
            LinkKeys = { alias },
            Records = { new RecordReference { Kind = RecordKind.ReturnCase, Holder = PartnerType.Iom, RecordId = "iom-pg-1" } },
        }, As("iom"))).Registration;
        var merged = (await Client.Registry().MergeRegistrationsAsync(new MergeRegistrationsRequest
        {
            ClientRequestId = "pg-merge", SurvivingRegistrationId = first.RegistrationId, MergedRegistrationIds = { second.RegistrationId }, Reason = MergeReason.DuplicateReport,
        }, As("comensha"))).Registration;
        var found = await Client.Registry().FindByLinkKeysAsync(new FindByLinkKeysRequest { LinkKeys = { second.LinkKeys[0] } }, As("police"));
        var statistics = await Client.Registry().GetStatisticsAsync(new GetStatisticsRequest { YearFrom = today.Year, YearTo = today.Year }, As("rapporteur"));

        _clock.Advance(TimeSpan.FromDays(10));
        var reminder = await EventuallyAsync(() => _events.ReflectionEnding.FirstOrDefault(e => e.RegistrationId == first.RegistrationId));
        Registration read;
        _clock.Advance(TimeSpan.FromDays(11));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            await Task.Delay(100);
            read = (await Client.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = first.RegistrationId }, As("comensha"))).Registration;
        }
        while (read.ReflectionPeriod.State == ReflectionPeriodState.Running && DateTime.UtcNow < deadline);

        Assert.True(started.Person.Minor);
        Assert.Contains(alias, linked.LinkKeys);
        Assert.Equal(3, merged.LinkKeys.Count);
        Assert.Equal(10, reminder.DaysRemaining);
        Assert.Equal(first.RegistrationId, Assert.Single(found.Matches).RegistrationId);
        // Two registrations, one person after the merge: a total of one, withheld.
        Assert.True(Assert.Single(statistics.Cells).Suppressed);
        Assert.Equal(ReflectionPeriodState.Expired, read.ReflectionPeriod.State);
    }
}
