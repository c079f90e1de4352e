using Chain.Common.V1;
using Chain.Registry.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>Consent records: recorded, listed, withdrawn and lapsing, with a clock the test moves.</summary>
public sealed class ConsentTests : IAsyncLifetime
{
    private static readonly DateOnly Today = new(2026, 5, 11);
    private readonly MovableClock _clock = new(new DateTimeOffset(2026, 5, 11, 9, 0, 0, TimeSpan.Zero));
    private RegistryHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync(_clock);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static Consent Written(Registration registration, DateOnly? until = null) => new()
    {
        RegistrationId = registration.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Iom, RecipientPartner = PartnerType.Comensha,
        Topics = { DisclosureTopic.Return, DisclosureTopic.RegistrationStatus }, Form = ConsentForm.Written, GivenOn = Day(Today), ValidUntil = until is { } u ? Day(u) : null,
        DocumentReference = "iom/2026/041",
    };

    private async Task<Consent> RecordAsync(string requestId, Consent consent, string partner = "iom") =>
        (await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest { ClientRequestId = requestId, Consent = consent }, As(partner))).Consent;

    private async Task<List<Consent>> ListAsync(Registration registration, bool includeInactive) =>
        [.. (await _host.Channel.Registry().ListConsentsAsync(new ListConsentsRequest { RegistrationId = registration.RegistrationId, IncludeInactive = includeInactive }, As("comensha"))).Consents];

    [Fact]
    public async Task A_consent_is_recorded_once_listed_while_in_force_and_lapses_after_its_last_day()
    {
        var registration = await RegisterAsync(_host.Channel, "c-1");
        var recorded = await RecordAsync("iom-c-1", Written(registration, Today.AddDays(10)));
        var retried = await RecordAsync("iom-c-1", Written(registration, Today.AddDays(10)));

        Assert.StartsWith("con-", recorded.ConsentId);
        Assert.Equal(ConsentState.Given, recorded.State);
        Assert.Equal(PartnerType.Iom, recorded.RecordedBy);
        Assert.Equal(recorded, retried);
        Assert.Equal(recorded.ConsentId, Assert.Single(await ListAsync(registration, includeInactive: false)).ConsentId);

        _clock.Advance(TimeSpan.FromDays(11));
        Assert.Empty(await ListAsync(registration, includeInactive: false));
        Assert.Equal(ConsentState.Expired, Assert.Single(await ListAsync(registration, includeInactive: true)).State);
    }

    [Fact]
    public async Task A_consent_is_withdrawn_by_its_recorder_or_CoMensha_and_not_by_others()
    {
        var registration = await RegisterAsync(_host.Channel, "c-2");
        var consent = await RecordAsync("iom-c-2", Written(registration));
        var withdrawal = new Consent { ConsentId = consent.ConsentId, State = ConsentState.Withdrawn };

        var byPolice = await Assert.ThrowsAsync<RpcException>(() => RecordAsync("pol-w", withdrawal, "police"));
        var withdrawn = await RecordAsync("iom-w", withdrawal);
        var twice = await RecordAsync("iom-w2", withdrawal);

        Assert.Equal(StatusCode.PermissionDenied, byPolice.StatusCode);
        Assert.Equal(ConsentState.Withdrawn, withdrawn.State);
        Assert.Equal(Day(Today), withdrawn.WithdrawnOn);
        Assert.Equal(withdrawn, twice);
        Assert.Empty(await ListAsync(registration, includeInactive: false));
        Assert.Equal(ConsentState.Withdrawn, Assert.Single(await ListAsync(registration, includeInactive: true)).State);
    }

    [Fact]
    public async Task Consents_are_listed_a_page_at_a_time()
    {
        var registration = await RegisterAsync(_host.Channel, "c-3");
        for (var i = 0; i < 5; i++)
        {
            await RecordAsync($"iom-p-{i}", Written(registration));
        }
        var first = await _host.Channel.Registry().ListConsentsAsync(new ListConsentsRequest { RegistrationId = registration.RegistrationId, PageSize = 3 }, As("comensha"));
        var second = await _host.Channel.Registry().ListConsentsAsync(new ListConsentsRequest { RegistrationId = registration.RegistrationId, PageSize = 3, PageToken = first.NextPageToken }, As("comensha"));

        Assert.Equal(3, first.Consents.Count);
        Assert.Equal(2, second.Consents.Count);
        Assert.Empty(second.NextPageToken);
        Assert.Equal(5, first.Consents.Concat(second.Consents).Select(c => c.ConsentId).Distinct().Count());
    }

    [Fact]
    public async Task Nidos_recording_a_consent_on_an_adults_registration_is_told_it_does_not_exist_and_nothing_is_stored()
    {
        var adult = await RegisterAsync(_host.Channel, "c-adult", new PersonProfile { AgeAtRegistration = 30 });
        var minor = await RegisterAsync(_host.Channel, "c-minor", new PersonProfile { AgeAtRegistration = 15 });

        var onAdult = await Assert.ThrowsAsync<RpcException>(() => RecordAsync("nidos-adult", Written(adult), "nidos"));
        var onNobody = await Assert.ThrowsAsync<RpcException>(() => RecordAsync("nidos-nobody", new Consent(Written(adult)) { RegistrationId = "reg-nobody" }, "nidos"));
        var listedByNidos = await Assert.ThrowsAsync<RpcException>(() =>
            _host.Channel.Registry().ListConsentsAsync(new ListConsentsRequest { RegistrationId = adult.RegistrationId }, As("nidos")).ResponseAsync);
        var onMinor = await RecordAsync("nidos-minor", Written(minor), "nidos");

        // Word for word what an unknown id gets: the refusal does not show that the adult is registered.
        Assert.Equal(StatusCode.NotFound, onAdult.StatusCode);
        Assert.Equal(onNobody.Status.Detail.Replace("reg-nobody", "ID"), onAdult.Status.Detail.Replace(adult.RegistrationId, "ID"));
        Assert.Equal(StatusCode.NotFound, listedByNidos.StatusCode);
        Assert.Empty(await ListAsync(adult, includeInactive: true));
        Assert.Equal(PartnerType.Nidos, onMinor.RecordedBy);
    }

    [Fact]
    public async Task Bad_consents_are_refused_with_every_field_to_fix()
    {
        var registration = await RegisterAsync(_host.Channel, "c-4");
        var empty = await Assert.ThrowsAsync<RpcException>(() => RecordAsync("bad-1", new Consent { RegistrationId = registration.RegistrationId }));
        var unsigned = Written(registration);
        unsigned.DocumentReference = "";
        unsigned.RecipientPartner = PartnerType.Iom;
        var noDocument = await Assert.ThrowsAsync<RpcException>(() => RecordAsync("bad-2", unsigned));
        var future = Written(registration);
        future.GivenOn = Day(Today.AddDays(1));
        var notYet = await Assert.ThrowsAsync<RpcException>(() => RecordAsync("bad-3", future));
        var nowhere = await Assert.ThrowsAsync<RpcException>(() => RecordAsync("bad-4", new Consent(Written(registration)) { RegistrationId = "reg-nobody" }));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => RecordAsync("bad-5", new Consent { ConsentId = "con-nothing", State = ConsentState.Withdrawn }));
        var listing = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().ListConsentsAsync(new ListConsentsRequest { PageSize = 9999, PageToken = "x" }, As("comensha")).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        foreach (var field in new[] { "consent.giver", "consent.disclosing_partner", "consent.recipient_partner", "consent.topics", "consent.form", "consent.given_on" })
        {
            Assert.Contains(field, empty.Status.Detail);
        }
        Assert.Contains("consent.document_reference", noDocument.Status.Detail);
        Assert.Contains("must differ", noDocument.Status.Detail);
        Assert.Contains("consent.given_on", notYet.Status.Detail);
        Assert.Equal(StatusCode.NotFound, nowhere.StatusCode);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, listing.StatusCode);
        Assert.Contains("registration_id", listing.Status.Detail);
        Assert.Contains("page_size", listing.Status.Detail);
        Assert.Contains("page_token", listing.Status.Detail);
    }
}
