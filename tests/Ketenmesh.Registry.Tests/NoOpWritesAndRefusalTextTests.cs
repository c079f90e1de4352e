using Chain.Common.V1;
using Chain.Registry.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>
/// Writes that change nothing leave the version where it was, and refusals name only what the caller
/// sent: never another registration's id, never a link that was made without consent (issue 11).
/// </summary>
public sealed class NoOpWritesAndRefusalTextTests : IAsyncLifetime
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);
    private RegistryHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<Registration> ReadAsync(string id) => (await _host.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = id }, As("comensha"))).Registration;

    private Task<LinkRecordsResponse> LinkAsync(LinkRecordsRequest request, string partner) => _host.Channel.Registry().LinkRecordsAsync(request, As(partner)).ResponseAsync;

    [Fact]
    public async Task A_residence_write_that_changes_nothing_keeps_the_version()
    {
        var registration = await RegisterAsync(_host.Channel, "noop-1");
        var noOp = new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId, Residence = new ResidenceStatus(), UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "legal_stay" } },
        };

        var first = (await _host.Channel.Registry().RecordResidenceStatusAsync(noOp, As("ind"))).Registration;
        var second = (await _host.Channel.Registry().RecordResidenceStatusAsync(noOp, As("ind"))).Registration;
        var recorded = (await _host.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId, Residence = new ResidenceStatus { LegalStay = LegalStay.Irregular }, ExpectedVersion = registration.Version,
        }, As("ind"))).Registration;
        var again = (await _host.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId, Residence = new ResidenceStatus { LegalStay = LegalStay.Irregular }, ExpectedVersion = recorded.Version,
        }, As("ind"))).Registration;

        Assert.Equal(registration.Version, first.Version);
        Assert.Equal(registration.Version, second.Version);
        Assert.Null(first.Residence);
        Assert.Equal(registration.Version + 1, recorded.Version);
        Assert.Equal(recorded.Version, again.Version);
        Assert.Equal(recorded.Version, (await ReadAsync(registration.RegistrationId)).Version);
    }

    [Fact]
    public async Task Linking_what_is_already_linked_keeps_the_version()
    {
        var registration = await RegisterAsync(_host.Channel, "noop-2");
        var placement = new RecordReference { Kind = RecordKind.Placement, Holder = PartnerType.Shelter, RecordId = "cosm-noop" };
        var linked = (await LinkAsync(new LinkRecordsRequest { RegistrationId = registration.RegistrationId, Records = { placement } }, "comensha")).Registration;

        var again = (await LinkAsync(new LinkRecordsRequest { RegistrationId = registration.RegistrationId, Records = { placement }, LinkKeys = { registration.LinkKeys } }, "comensha")).Registration;

        Assert.Equal(registration.Version + 1, linked.Version);
        Assert.Equal(linked.Version, again.Version);
        Assert.Equal(linked.Version, (await ReadAsync(registration.RegistrationId)).Version);
    }

    [Fact]
    public async Task A_key_held_by_another_registration_is_refused_without_naming_that_registration()
    {
        var holder = await RegisterAsync(_host.Channel, "held-1");
        var target = await RegisterAsync(_host.Channel, "held-2");
        await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest
        {
            ClientRequestId = "held-consent",
            Consent = new Consent
            {
                RegistrationId = target.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Iom, RecipientPartner = PartnerType.Comensha,
                Topics = { DisclosureTopic.Return }, Form = ConsentForm.Written, GivenOn = Day(Today), DocumentReference = "iom/held",
            },
        }, As("iom"));

        var byIom = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(new LinkRecordsRequest { RegistrationId = target.RegistrationId, LinkKeys = { holder.LinkKeys[0] } }, "iom"));
        var byComensha = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(new LinkRecordsRequest { RegistrationId = target.RegistrationId, LinkKeys = { holder.LinkKeys[0] } }, "comensha"));

        Assert.Equal(StatusCode.FailedPrecondition, byIom.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, byComensha.StatusCode);
        Assert.DoesNotContain(holder.RegistrationId, byIom.Status.Detail);
        Assert.DoesNotContain(holder.RegistrationId, byComensha.Status.Detail);
        Assert.DoesNotContain("reg-", byIom.Status.Detail.Replace(target.RegistrationId, ""));
    }

    [Fact]
    public async Task IOM_attaches_no_key_without_the_victims_written_consent_and_learns_nothing_about_who_holds_it()
    {
        var holder = await RegisterAsync(_host.Channel, "iomkey-1");
        var target = await RegisterAsync(_host.Channel, "iomkey-2");
        var fresh = Key(LinkKeyKind.PhoneNumber);

        var heldKey = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(new LinkRecordsRequest { RegistrationId = target.RegistrationId, LinkKeys = { holder.LinkKeys[0] } }, "iom"));
        var freeKey = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(new LinkRecordsRequest { RegistrationId = target.RegistrationId, LinkKeys = { fresh } }, "iom"));
        var othersRecord = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(new LinkRecordsRequest
        {
            RegistrationId = target.RegistrationId, Records = { new RecordReference { Kind = RecordKind.Signal, Holder = PartnerType.Police, RecordId = "sig-police-1" } },
        }, "iom"));
        var unchanged = await ReadAsync(target.RegistrationId);

        Assert.Equal(StatusCode.FailedPrecondition, heldKey.StatusCode);
        Assert.Contains("written consent", heldKey.Status.Detail);
        Assert.Equal(heldKey.Status.Detail, freeKey.Status.Detail);
        Assert.DoesNotContain(holder.RegistrationId, heldKey.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, othersRecord.StatusCode);
        Assert.DoesNotContain(fresh, unchanged.LinkKeys);
        Assert.Empty(unchanged.LinkedRecords);
        Assert.Equal(target.Version, unchanged.Version);
    }

    [Fact]
    public async Task Refusals_about_a_merged_registration_do_not_name_the_one_it_was_merged_into()
    {
        var survivor = await RegisterAsync(_host.Channel, "mrg-1");
        var merged = await RegisterAsync(_host.Channel, "mrg-2");
        await _host.Channel.Registry().MergeRegistrationsAsync(new MergeRegistrationsRequest
        {
            ClientRequestId = "mrg", SurvivingRegistrationId = survivor.RegistrationId, MergedRegistrationIds = { merged.RegistrationId }, Reason = MergeReason.DuplicateReport,
        }, As("comensha"));

        var change = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().StartReflectionPeriodAsync(new StartReflectionPeriodRequest { RegistrationId = merged.RegistrationId, StartOn = Day(Today) }, As("police")).ResponseAsync);
        var consent = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest
        {
            ClientRequestId = "mrg-consent",
            Consent = new Consent
            {
                RegistrationId = merged.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Shelter, RecipientPartner = PartnerType.Comensha,
                Topics = { DisclosureTopic.ShelterPlacement }, Form = ConsentForm.OralRecorded, GivenOn = Day(Today),
            },
        }, As("shelters")).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, change.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, consent.StatusCode);
        Assert.DoesNotContain(survivor.RegistrationId, change.Status.Detail);
        Assert.DoesNotContain(survivor.RegistrationId, consent.Status.Detail);
    }

    [Fact]
    public async Task Another_partners_withdrawn_consent_is_not_shown_to_a_partner_that_did_not_record_it()
    {
        var registration = await RegisterAsync(_host.Channel, "wd-1");
        var recorded = (await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest
        {
            ClientRequestId = "wd-consent",
            Consent = new Consent
            {
                RegistrationId = registration.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Shelter, RecipientPartner = PartnerType.Comensha,
                Topics = { DisclosureTopic.ShelterPlacement }, Form = ConsentForm.OralRecorded, GivenOn = Day(Today),
            },
        }, As("shelters"))).Consent;
        var withdrawal = new Consent { ConsentId = recorded.ConsentId, State = ConsentState.Withdrawn };
        await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest { ClientRequestId = "wd-1", Consent = withdrawal }, As("shelters"));

        var byIom = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest { ClientRequestId = "wd-2", Consent = withdrawal }, As("iom")).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, byIom.StatusCode);
    }
}
