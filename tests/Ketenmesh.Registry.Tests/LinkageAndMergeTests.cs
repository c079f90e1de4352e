using Chain.Common.V1;
using Chain.Registry.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>Linking records and keys to a registration, and merging registrations of one person, on the embedded registry.</summary>
public sealed class LinkageAndMergeTests : IAsyncLifetime
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);
    private RegistryHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<LinkRecordsResponse> LinkAsync(LinkRecordsRequest request, string partner = "comensha") => _host.Channel.Registry().LinkRecordsAsync(request, As(partner)).ResponseAsync;

    private Task<MergeRegistrationsResponse> MergeAsync(string requestId, Registration survivor, params Registration[] merged) =>
        _host.Channel.Registry().MergeRegistrationsAsync(new MergeRegistrationsRequest
        {
            ClientRequestId = requestId,
            SurvivingRegistrationId = survivor.RegistrationId,
            MergedRegistrationIds = { merged.Select(m => m.RegistrationId) },
            Reason = MergeReason.DuplicateReport,
        }, As("comensha")).ResponseAsync;

    private async Task<Registration> ReadAsync(string id) => (await _host.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = id }, As("comensha"))).Registration;

    [Fact]
    public async Task Linked_keys_and_records_find_the_registration_and_a_key_held_by_another_person_is_refused()
    {
        var registration = await RegisterAsync(_host.Channel, "lk-1");
        var alias = Key(LinkKeyKind.NameDateOfBirth);
        var placement = new RecordReference { Kind = RecordKind.Placement, Holder = PartnerType.Shelter, RecordId = "cosm-2026-17" };
        var linked = (await LinkAsync(new LinkRecordsRequest { RegistrationId = registration.RegistrationId, LinkKeys = { alias }, Records = { placement }, ExpectedVersion = registration.Version })).Registration;
        var again = (await LinkAsync(new LinkRecordsRequest { RegistrationId = registration.RegistrationId, LinkKeys = { alias }, Records = { placement } })).Registration;
        var found = await _host.Channel.Registry().FindByLinkKeysAsync(new FindByLinkKeysRequest { LinkKeys = { alias } }, As("police"));

        var other = await RegisterAsync(_host.Channel, "lk-2");
        var taken = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(new LinkRecordsRequest { RegistrationId = other.RegistrationId, LinkKeys = { alias } }));
        var stale = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(new LinkRecordsRequest { RegistrationId = registration.RegistrationId, Records = { placement }, ExpectedVersion = registration.Version }));
        var bad = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(new LinkRecordsRequest { RegistrationId = registration.RegistrationId, Records = { new RecordReference { Kind = RecordKind.Placement } } }));

        Assert.Contains(alias, linked.LinkKeys);
        Assert.Equal(placement, Assert.Single(linked.LinkedRecords));
        Assert.Equal(2, again.LinkKeys.Count);
        Assert.Single(again.LinkedRecords);
        Assert.Equal(registration.RegistrationId, Assert.Single(found.Matches).RegistrationId);
        Assert.Equal(StatusCode.FailedPrecondition, taken.StatusCode);
        Assert.DoesNotContain(registration.RegistrationId, taken.Status.Detail);
        Assert.Equal(StatusCode.Aborted, stale.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("records[0].holder", bad.Status.Detail);
        Assert.Contains("records[0].record_id", bad.Status.Detail);
    }

    [Fact]
    public async Task IOM_return_case_is_linked_only_with_the_victims_written_consent_in_force()
    {
        var registration = await RegisterAsync(_host.Channel, "lk-iom");
        var returnCase = new LinkRecordsRequest { RegistrationId = registration.RegistrationId, Records = { new RecordReference { Kind = RecordKind.ReturnCase, Holder = PartnerType.Iom, RecordId = "iom-ret-9" } } };
        Consent Consent(ConsentForm form) => new()
        {
            RegistrationId = registration.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Iom, RecipientPartner = PartnerType.Comensha,
            Topics = { DisclosureTopic.Return }, Form = form, GivenOn = Day(Today), DocumentReference = form == ConsentForm.Written ? "iom-file-9/consent.pdf" : "",
        };

        var none = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(returnCase, "iom"));
        await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest { ClientRequestId = "c-oral", Consent = Consent(ConsentForm.OralRecorded) }, As("iom"));
        var oral = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(returnCase, "iom"));
        var written = (await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest { ClientRequestId = "c-written", Consent = Consent(ConsentForm.Written) }, As("iom"))).Consent;
        var linked = (await LinkAsync(returnCase, "iom")).Registration;
        await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest { ClientRequestId = "c-withdraw", Consent = new Consent { ConsentId = written.ConsentId, State = ConsentState.Withdrawn } }, As("iom"));
        var afterWithdrawal = await Assert.ThrowsAsync<RpcException>(() => LinkAsync(new LinkRecordsRequest
        {
            RegistrationId = registration.RegistrationId, Records = { new RecordReference { Kind = RecordKind.ReturnCase, Holder = PartnerType.Iom, RecordId = "iom-ret-10" } },
        }, "iom"));

        Assert.Equal(StatusCode.FailedPrecondition, none.StatusCode);
        Assert.Contains("written consent", none.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, oral.StatusCode);
        Assert.Contains(linked.LinkedRecords, r => r.RecordId == "iom-ret-9");
        Assert.Equal(StatusCode.FailedPrecondition, afterWithdrawal.StatusCode);
    }

    [Fact]
    public async Task Merging_keeps_one_registration_with_everything_and_the_merged_ones_point_to_it()
    {
        var passport = Key();
        var phone = Key(LinkKeyKind.PhoneNumber);
        var byPolice = await RegisterAsync(_host.Channel, "m-1", new PersonProfile { Sex = Sex.Female, Nationalities = { new Nationality { CountryCode = "NG", Basis = NationalityBasis.Declared } } },
            new ExploitationProfile { Form = FormOfExploitation.Sexual }, VictimStatus.Signalled, passport);
        var byShelter = await RegisterAsync(_host.Channel, "m-2", new PersonProfile { AgeAtRegistration = 24, AgeAtExploitationStart = 17 },
            new ExploitationProfile { LocationType = LocationType.Window }, VictimStatus.Possible, phone);
        var started = (await _host.Channel.Registry().StartReflectionPeriodAsync(new StartReflectionPeriodRequest { RegistrationId = byShelter.RegistrationId, StartOn = Day(Today) }, As("police"))).Registration;
        await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest
        {
            ClientRequestId = "m-consent",
            Consent = new Consent { RegistrationId = byShelter.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Shelter, RecipientPartner = PartnerType.Comensha, Topics = { DisclosureTopic.ShelterPlacement }, Form = ConsentForm.OralRecorded, GivenOn = Day(Today) },
        }, As("shelters"));

        var merged = await MergeAsync("merge-1", byPolice, started);
        var retried = await MergeAsync("merge-1", byPolice, started);
        var survivor = merged.Registration;
        var closed = await ReadAsync(byShelter.RegistrationId);
        var byPhone = await _host.Channel.Registry().FindByLinkKeysAsync(new FindByLinkKeysRequest { LinkKeys = { phone } }, As("police"));
        var consents = await _host.Channel.Registry().ListConsentsAsync(new ListConsentsRequest { RegistrationId = survivor.RegistrationId }, As("comensha"));
        var changeMerged = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().StartReflectionPeriodAsync(new StartReflectionPeriodRequest { RegistrationId = byShelter.RegistrationId, StartOn = Day(Today) }, As("police")).ResponseAsync);
        var mergeAgain = await Assert.ThrowsAsync<RpcException>(() => MergeAsync("merge-2", byPolice, byShelter));

        Assert.Equal(VictimStatus.Possible, survivor.Status);
        Assert.Equal(new[] { passport, phone }, survivor.LinkKeys);
        Assert.Equal(Sex.Female, survivor.Person.Sex);
        Assert.Equal(17, survivor.Person.AgeAtExploitationStart);
        Assert.True(survivor.Person.Minor);
        Assert.Equal(FormOfExploitation.Sexual, survivor.Exploitation.Form);
        Assert.Equal(LocationType.Window, survivor.Exploitation.LocationType);
        Assert.Equal(ReflectionPeriodState.Running, survivor.ReflectionPeriod.State);
        Assert.Equal([byShelter.RegistrationId], Assert.Single(survivor.MergeHistory).MergedRegistrationIds);
        Assert.Equal(PartnerType.Comensha, survivor.MergeHistory[0].MergedBy);
        Assert.Equal(merged.Merge, retried.Merge);
        Assert.Equal(VictimStatus.Closed, closed.Status);
        Assert.Equal(RegistrationClosureReason.Merged, closed.ClosureReason);
        Assert.Equal(survivor.RegistrationId, closed.MergedIntoRegistrationId);
        Assert.Equal(survivor.RegistrationId, Assert.Single(byPhone.Matches).RegistrationId);
        Assert.Equal(survivor.RegistrationId, Assert.Single(consents.Consents).RegistrationId);
        Assert.Equal(StatusCode.FailedPrecondition, changeMerged.StatusCode);
        Assert.DoesNotContain(survivor.RegistrationId, changeMerged.Status.Detail);
        Assert.Contains("merged into another registration", changeMerged.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, mergeAgain.StatusCode);
        var announced = await EventuallyAsync(() => _host.Events.Merged.FirstOrDefault(e => e.SurvivingRegistrationId == survivor.RegistrationId));
        Assert.Equal([byShelter.RegistrationId], announced.MergedRegistrationIds);
        await EventuallyAsync(() => _host.Events.StatusChanged.FirstOrDefault(e => e.RegistrationId == byShelter.RegistrationId && e.ClosureReason == RegistrationClosureReason.Merged));
        await EventuallyAsync(() => _host.Events.StatusChanged.FirstOrDefault(e => e.RegistrationId == survivor.RegistrationId && e.NewStatus == VictimStatus.Possible));
        await Task.Delay(200);
        Assert.Single(_host.Events.Merged, e => e.SurvivingRegistrationId == survivor.RegistrationId);
    }

    [Fact]
    public async Task Bad_merge_requests_are_refused_with_the_field_to_fix()
    {
        var one = await RegisterAsync(_host.Channel, "mb-1");
        var self = await Assert.ThrowsAsync<RpcException>(() => MergeAsync("mb", one, one));
        var none = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().MergeRegistrationsAsync(new MergeRegistrationsRequest { SurvivingRegistrationId = one.RegistrationId }, As("comensha")).ResponseAsync);
        var missing = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().MergeRegistrationsAsync(new MergeRegistrationsRequest
        {
            ClientRequestId = "mb-2", SurvivingRegistrationId = one.RegistrationId, MergedRegistrationIds = { "reg-nobody" }, Reason = MergeReason.SamePersonAlias,
        }, As("comensha")).ResponseAsync);
        var other = await RegisterAsync(_host.Channel, "mb-3");
        await MergeAsync("mb-4", one, other);
        var reused = await Assert.ThrowsAsync<RpcException>(() => MergeAsync("mb-4", other, one));

        Assert.Equal(StatusCode.InvalidArgument, self.StatusCode);
        Assert.Contains("merged_registration_ids", self.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, none.StatusCode);
        Assert.Contains("client_request_id", none.Status.Detail);
        Assert.Contains("reason", none.Status.Detail);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Equal(StatusCode.AlreadyExists, reused.StatusCode);
        Assert.Equal(VictimStatus.Possible, (await ReadAsync(one.RegistrationId)).Status);
    }
}
