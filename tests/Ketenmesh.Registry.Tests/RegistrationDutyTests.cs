using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Registry.V1;
using Chain.Risk.V1;
using Ketenmesh.Registry.Persistence;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>
/// The duty to report (meldplicht) to CoMensha. Source: seeds/001…txt L5548–5551: "De politie, de Koninklijke
/// Marechaussee (KMar) en de Inspectie SZW hebben een meldplicht – bij de geringste aanwijzing van
/// slachtofferschap mensenhandel – aan CoMensha"; L5556–5557 (Dutch victims too); L5559–5560 (Nidos, for
/// unaccompanied minors). The risk band sets priority and track, not whether a person is registered.
/// </summary>
public abstract class RegistrationDutyTests : IAsyncLifetime
{
    private readonly RegistryEvents _events = new();
    private ComponentHost _registry = null!;

    protected abstract Task<Dictionary<string, string?>> SettingsAsync();

    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    public async Task InitializeAsync() =>
        _registry = await ComponentHost.StartAsync(new RegistryComponent(), await SettingsAsync(), (services, bus) =>
        {
            services.AddSingleton(_events);
            bus.AddConsumer<RegistryEventsProbe>();
        });

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await CleanUpAsync();
    }

    private async Task PublishAsync(string signalId, PartnerType reporter, RiskBand band, bool minor = false, params PersonLinkKey[] keys)
    {
        await _registry.PublishAsync(new SignalReceived
        {
            EventId = Guid.NewGuid().ToString(), SignalId = signalId, ReporterPartner = reporter, MinorSuspected = minor,
            SuspectedForm = FormOfExploitation.Labour, PersonLinkKeys = { keys.Length == 0 ? [Key()] : keys },
        });
        // No escalation flag: the duty must not hang on how risk assessment happens to escalate.
        await _registry.PublishAsync(new RiskAssessed { EventId = Guid.NewGuid().ToString(), SignalId = signalId, AssessmentId = $"as-{signalId}", Band = band });
    }

    private Task<VictimRegistered> RegisteredAsync(string signalId) =>
        EventuallyAsync(() => _events.Registered.FirstOrDefault(e => e.SourceSignalIds.Contains(signalId)));

    /// <summary>Both halves of the signal are in and the registry has decided to keep it on file only (committed together).</summary>
    private async Task<PendingSignalRow> KeptOnFileAsync(string signalId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var scope = _registry.Services.CreateAsyncScope();
            var pending = await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().PendingSignals.AsNoTracking().FirstOrDefaultAsync(p => p.SignalId == signalId);
            if (pending is { Received: not null, Assessed: not null })
            {
                return pending;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{signalId} never had both halves");
            await Task.Delay(25);
        }
    }

    [Theory]
    [InlineData(PartnerType.Police)]
    [InlineData(PartnerType.Kmar)]
    [InlineData(PartnerType.Inspectorate)]
    public async Task A_low_band_signal_from_a_partner_with_the_duty_to_report_is_registered(PartnerType reporter)
    {
        await PublishAsync("sig-duty", reporter, RiskBand.Low);

        var registered = await RegisteredAsync("sig-duty");
        var registration = (await _registry.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = registered.RegistrationId }, As("comensha"))).Registration;

        Assert.Equal(reporter, registered.ReporterPartner);
        // The band still says how urgent: a low one is registered as signalled, not as a possible victim.
        Assert.Equal(VictimStatus.Signalled, registration.Status);
        Assert.Equal("sig-duty", Assert.Single(registration.LinkedRecords).RecordId);
    }

    [Fact]
    public async Task A_low_band_police_signal_about_someone_registered_is_linked_to_that_registration()
    {
        var passport = Key();
        var existing = await RegisterAsync(_registry.Channel, "cm-known", keys: passport);

        await PublishAsync("sig-known", PartnerType.Police, RiskBand.Low, keys: passport);

        var linked = await EventuallyAsync(() => _events.Linked.FirstOrDefault(e => e.SignalId == "sig-known"));
        Assert.Equal(existing.RegistrationId, linked.RegistrationId);
    }

    [Fact]
    public async Task Nidos_reports_a_minor_whatever_the_band_but_not_an_adult()
    {
        await PublishAsync("sig-nidos-minor", PartnerType.Nidos, RiskBand.Low, minor: true);
        await PublishAsync("sig-nidos-adult", PartnerType.Nidos, RiskBand.Low);

        var registered = await RegisteredAsync("sig-nidos-minor");
        var registration = (await _registry.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = registered.RegistrationId }, As("comensha"))).Registration;
        var adult = await KeptOnFileAsync("sig-nidos-adult");

        Assert.True(registration.Person.Minor);
        Assert.False(adult.Decided);
    }

    [Fact]
    public async Task A_partner_without_the_duty_has_a_low_band_signal_kept_on_file_or_linked_and_a_medium_one_registered()
    {
        var passport = Key();
        var existing = await RegisterAsync(_registry.Channel, "cm-known", keys: passport);

        await PublishAsync("sig-municipality-low", PartnerType.Municipality, RiskBand.Low);
        await PublishAsync("sig-municipality-known", PartnerType.Municipality, RiskBand.Low, keys: passport);
        await PublishAsync("sig-municipality-medium", PartnerType.Municipality, RiskBand.Medium);

        var kept = await KeptOnFileAsync("sig-municipality-low");
        var linked = await EventuallyAsync(() => _events.Linked.FirstOrDefault(e => e.SignalId == "sig-municipality-known"));
        await RegisteredAsync("sig-municipality-medium");

        Assert.False(kept.Decided);
        Assert.Equal(existing.RegistrationId, linked.RegistrationId);
    }
}

public sealed class RegistrationDutyOnSqliteTests : RegistrationDutyTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-registry-").FullName;

    protected override Task<Dictionary<string, string?>> SettingsAsync() => Task.FromResult(ComponentHost.EmbeddedSettings(new RegistryComponent(), _directory));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

public sealed class RegistrationDutyOnPostgresTests : RegistrationDutyTests
{
    private TestDatabase _database = null!;

    protected override async Task<Dictionary<string, string?>> SettingsAsync()
    {
        _database = await TestDatabase.CreateAsync("registry");
        var settings = _database.Settings("Database");
        settings["Messaging:Transport"] = "InMemory";
        return settings;
    }

    protected override async Task CleanUpAsync() => await _database.DisposeAsync();
}
