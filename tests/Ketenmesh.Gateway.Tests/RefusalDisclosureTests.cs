using System.Text;
using Chain.Common.V1;
using Chain.Registry.V1;
using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Contracts;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Testing;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// Refusals through the gateway, against the real signal intake, risk assessment and registry, tell the
/// caller nothing it may not read: no status detail (message or rich details) carries the id of a
/// record the caller did not name itself (issue 11, finding 3).
/// </summary>
public sealed class RefusalDisclosureTests : IAsyncLifetime
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(withChainFlow: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private CallOptions As(string partner, string purpose) => GatewayMesh.Options(_mesh.As(partner, purpose));

    private static PersonLinkKey Key(LinkKeyKind kind = LinkKeyKind.TravelDocument) =>
        new() { Kind = kind, KeyedHash = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), KeyId = "chain-2026-1" };

    private async Task<Registration> RegisterAsync(string requestId, PersonLinkKey key) =>
        (await _mesh.Channel.Registry().RegisterVictimAsync(new RegisterVictimRequest { ClientRequestId = requestId, InitialStatus = VictimStatus.Possible, LinkKeys = { key } }, As("comensha", "victim_care"))).Registration;

    [Fact]
    public async Task No_refusal_across_the_services_names_an_id_the_caller_did_not_send()
    {
        // The data: registrations (one merged into another), a consent, signals of two partners.
        var heldKey = Key();
        var holder = await RegisterAsync("rd-holder", heldKey);
        var target = await RegisterAsync("rd-target", Key());
        var absorbed = await RegisterAsync("rd-absorbed", Key(LinkKeyKind.PhoneNumber));
        await _mesh.Channel.Registry().MergeRegistrationsAsync(new MergeRegistrationsRequest
        {
            ClientRequestId = "rd-merge", SurvivingRegistrationId = holder.RegistrationId, MergedRegistrationIds = { absorbed.RegistrationId }, Reason = MergeReason.DuplicateReport,
        }, As("comensha", "victim_care"));
        var consent = (await _mesh.Channel.Registry().RecordConsentAsync(new RecordConsentRequest
        {
            ClientRequestId = "rd-consent",
            Consent = new Consent
            {
                RegistrationId = holder.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Shelter, RecipientPartner = PartnerType.Comensha,
                Topics = { DisclosureTopic.ShelterPlacement }, Form = ConsentForm.OralRecorded, GivenOn = Today.ToDate(),
            },
        }, As("comensha", "victim_care"))).Consent;
        await _mesh.Channel.Registry().StartReflectionPeriodAsync(new StartReflectionPeriodRequest { RegistrationId = target.RegistrationId, StartOn = Today.ToDate() }, As("police", "criminal_investigation"));
        var policeSignal = (await _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request("rd-police"), As("police", "signalling"))).Signal.SignalId;
        var careSignal = (await _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request("rd-care"), As("care", "signalling"))).Signal.SignalId;
        // Each id with the one partner that may read it anyway (a signal is read by its own reporter); the
        // registrations and the consent count as readable by no caller, so even CoMensha's refusals must not name them.
        var ids = new (string Id, string? Reader)[]
        {
            (holder.RegistrationId, null), (target.RegistrationId, null), (absorbed.RegistrationId, null), (consent.ConsentId, null), (policeSignal, "police"), (careSignal, "care"),
        };

        var refusals = new List<(string What, IMessage Request, Func<Task> Call)>();
        void Refuse<TRequest>(string what, TRequest request, Func<TRequest, Task> call) where TRequest : IMessage => refusals.Add((what, request, () => call(request)));
        // The caller is the first word of each description.
        var registry = _mesh.Channel.Registry();
        // LinkRecords: someone else's key, by a partner without consent and by CoMensha; a record another partner holds; a stale version.
        Refuse("iom links a held key", new LinkRecordsRequest { RegistrationId = target.RegistrationId, LinkKeys = { heldKey } }, r => registry.LinkRecordsAsync(r, As("iom", "return")).ResponseAsync);
        Refuse("iom links a free key", new LinkRecordsRequest { RegistrationId = target.RegistrationId, LinkKeys = { Key() } }, r => registry.LinkRecordsAsync(r, As("iom", "return")).ResponseAsync);
        Refuse("iom links police's record", new LinkRecordsRequest { RegistrationId = target.RegistrationId, Records = { new RecordReference { Kind = RecordKind.Signal, Holder = PartnerType.Police, RecordId = policeSignal } } }, r => registry.LinkRecordsAsync(r, As("iom", "return")).ResponseAsync);
        Refuse("comensha links a held key", new LinkRecordsRequest { RegistrationId = target.RegistrationId, LinkKeys = { heldKey } }, r => registry.LinkRecordsAsync(r, As("comensha", "victim_care")).ResponseAsync);
        Refuse("comensha links with a stale version", new LinkRecordsRequest { RegistrationId = holder.RegistrationId, LinkKeys = { Key() }, ExpectedVersion = 1 }, r => registry.LinkRecordsAsync(r, As("comensha", "victim_care")).ResponseAsync);
        Refuse("iom links to the merged registration", new LinkRecordsRequest { RegistrationId = absorbed.RegistrationId, LinkKeys = { Key() } }, r => registry.LinkRecordsAsync(r, As("iom", "return")).ResponseAsync);
        // Writes on the merged registration.
        Refuse("ind residence on merged", new RecordResidenceStatusRequest { RegistrationId = absorbed.RegistrationId, Residence = new ResidenceStatus() }, r => registry.RecordResidenceStatusAsync(r, As("ind", "residence")).ResponseAsync);
        Refuse("police reflection on merged", new StartReflectionPeriodRequest { RegistrationId = absorbed.RegistrationId, StartOn = Today.ToDate() }, r => registry.StartReflectionPeriodAsync(r, As("police", "criminal_investigation")).ResponseAsync);
        Refuse("police status on merged", new ChangeStatusRequest { RegistrationId = absorbed.RegistrationId, NewStatus = VictimStatus.Presumed }, r => registry.ChangeStatusAsync(r, As("police", "criminal_investigation")).ResponseAsync);
        Refuse("police aangifte on merged", new RecordAangifteStatusRequest { RegistrationId = absorbed.RegistrationId, AangifteStatus = AangifteStatus.Made, StatusOn = Today.ToDate() }, r => registry.RecordAangifteStatusAsync(r, As("police", "criminal_investigation")).ResponseAsync);
        Refuse("shelters consent on merged", new RecordConsentRequest
        {
            ClientRequestId = "rd-c2",
            Consent = new Consent { RegistrationId = absorbed.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Shelter, RecipientPartner = PartnerType.Comensha, Topics = { DisclosureTopic.ShelterPlacement }, Form = ConsentForm.OralRecorded, GivenOn = Today.ToDate() },
        }, r => registry.RecordConsentAsync(r, As("shelters", "victim_care")).ResponseAsync);
        Refuse("comensha merges the merged one again", new MergeRegistrationsRequest { ClientRequestId = "rd-merge-2", SurvivingRegistrationId = target.RegistrationId, MergedRegistrationIds = { absorbed.RegistrationId }, Reason = MergeReason.DuplicateReport },
            r => registry.MergeRegistrationsAsync(r, As("comensha", "victim_care")).ResponseAsync);
        // State refusals: a second reflection period, a backwards status, aangifte in reflection without one.
        Refuse("police second reflection period", new StartReflectionPeriodRequest { RegistrationId = target.RegistrationId, StartOn = Today.ToDate() }, r => registry.StartReflectionPeriodAsync(r, As("police", "criminal_investigation")).ResponseAsync);
        Refuse("police status backwards", new ChangeStatusRequest { RegistrationId = holder.RegistrationId, NewStatus = VictimStatus.Signalled }, r => registry.ChangeStatusAsync(r, As("police", "criminal_investigation")).ResponseAsync);
        Refuse("police status stale", new ChangeStatusRequest { RegistrationId = holder.RegistrationId, NewStatus = VictimStatus.Presumed, ExpectedVersion = 1 }, r => registry.ChangeStatusAsync(r, As("police", "criminal_investigation")).ResponseAsync);
        Refuse("comensha aangifte without period", new RecordAangifteStatusRequest { RegistrationId = holder.RegistrationId, AangifteStatus = AangifteStatus.InReflectionPeriod, StatusOn = Today.ToDate() }, r => registry.RecordAangifteStatusAsync(r, As("comensha", "victim_care")).ResponseAsync);
        // Consents: withdrawing one another partner recorded; an unknown one.
        Refuse("iom withdraws comensha's consent", new RecordConsentRequest { ClientRequestId = "rd-w", Consent = new Consent { ConsentId = consent.ConsentId, State = ConsentState.Withdrawn } }, r => registry.RecordConsentAsync(r, As("iom", "return")).ResponseAsync);
        Refuse("shelters withdraw an unknown consent", new RecordConsentRequest { ClientRequestId = "rd-w2", Consent = new Consent { ConsentId = "con-nope", State = ConsentState.Withdrawn } }, r => registry.RecordConsentAsync(r, As("shelters", "victim_care")).ResponseAsync);
        Refuse("comensha lists consents of an unknown registration", new ListConsentsRequest { RegistrationId = "reg-nope" }, r => registry.ListConsentsAsync(r, As("comensha", "victim_care")).ResponseAsync);
        // Bad and foreign ids on reads, and calls the gateway refuses.
        Refuse("police reads an unknown registration", new GetRegistrationRequest { RegistrationId = "reg-nope" }, r => registry.GetRegistrationAsync(r, As("police", "criminal_investigation")).ResponseAsync);
        Refuse("iom reads a registration", new GetRegistrationRequest { RegistrationId = holder.RegistrationId }, r => registry.GetRegistrationAsync(r, As("iom", "return")).ResponseAsync);
        Refuse("iom finds by key", new FindByLinkKeysRequest { LinkKeys = { heldKey } }, r => registry.FindByLinkKeysAsync(r, As("iom", "return")).ResponseAsync);
        Refuse("police finds by no key", new FindByLinkKeysRequest(), r => registry.FindByLinkKeysAsync(r, As("police", "criminal_investigation")).ResponseAsync);
        Refuse("comensha lists wards", new ListWardsRequest(), r => registry.ListWardsAsync(r, As("comensha", "victim_care")).ResponseAsync);
        Refuse("nidos lists wards from a forged page token", new ListWardsRequest { PageToken = "Zm9yZ2Vk" }, r => registry.ListWardsAsync(r, As("nidos", "victim_care")).ResponseAsync);
        Refuse("police reads care's signal", new Chain.Signals.V1.GetSignalRequest { SignalId = careSignal }, r => _mesh.Channel.Intake().GetSignalAsync(r, As("police", "signalling")).ResponseAsync);
        Refuse("care reads police's signal", new Chain.Signals.V1.GetSignalRequest { SignalId = policeSignal }, r => _mesh.Channel.Intake().GetSignalAsync(r, As("care", "signalling")).ResponseAsync);
        var resubmitted = SignalCalls.Request("rd-police");
        resubmitted.Observation.FreeTextNote = "changed";
        Refuse("police resubmits under its key with other content", resubmitted, r => _mesh.Channel.Intake().SubmitSignalAsync(r, As("police", "signalling")).ResponseAsync);
        Refuse("police assessment of an unknown signal", new Chain.Risk.V1.GetAssessmentRequest { SignalId = "sig-nope" }, r => _mesh.Channel.Risk().GetAssessmentAsync(r, As("police", "criminal_investigation")).ResponseAsync);
        Refuse("police explains an unknown assessment", new Chain.Risk.V1.ExplainAssessmentRequest { AssessmentId = "asm-nope" }, r => _mesh.Channel.Risk().ExplainAssessmentAsync(r, As("police", "criminal_investigation")).ResponseAsync);

        var leaks = new List<string>();
        var refused = 0;
        foreach (var (what, request, call) in refusals)
        {
            try
            {
                await call();
                continue; // an answer is not a refusal; the mask tests judge answers
            }
            catch (RpcException e)
            {
                refused++;
                var sent = request.ToString() + Convert.ToBase64String(request.ToByteArray());
                var details = e.Status.Detail + Encoding.UTF8.GetString(e.Trailers.GetValueBytes("grpc-status-details-bin") ?? []);
                var caller = what[..what.IndexOf(' ')];
                leaks.AddRange(ids.Where(id => details.Contains(id.Id, StringComparison.Ordinal) && !sent.Contains(id.Id, StringComparison.Ordinal) && id.Reader != caller)
                    .Select(id => $"{what}: {e.StatusCode} \"{e.Status.Detail}\" names {id.Id}"));
            }
        }

        Assert.Empty(leaks);
        Assert.True(refused >= refusals.Count - 2, $"only {refused} of {refusals.Count} calls were refused");
    }
}
