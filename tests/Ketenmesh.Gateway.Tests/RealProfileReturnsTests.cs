using Chain.Common.V1;
using Chain.Registry.V1;
using Chain.Returns.V1;
using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Contracts;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Registry;
using Ketenmesh.Returns;
using Ketenmesh.Testing;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// Return coordination on the real profile, as partners call it: the victim registry and return
/// coordination each on its own PostgreSQL database with RabbitMQ between them, DT&amp;V, IOM, the IND
/// and CoMensha calling the gateway with tokens and purposes under the seeded policy. What return
/// coordination knows of residence decisions and consents it learns from the registry's events only.
/// </summary>
public sealed class RealProfileReturnsTests : IAsyncLifetime
{
    private RealProfile _profile = null!;
    private ComponentHost _registry = null!;
    private ComponentHost _returns = null!;
    private GatewayMesh _mesh = null!;

    private static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    public async Task InitializeAsync()
    {
        _profile = await RealProfile.CreateAsync();
        var gatewayPort = GatewayMesh.ReservePort(_profile);
        _registry = await ComponentHost.StartAsync(new RegistryComponent(), (await _profile.ServiceAsync("registry")).Settings);
        _returns = await ComponentHost.StartAsync(new ReturnsComponent(), (await _profile.ServiceAsync("returns")).Settings);
        _mesh = await GatewayMesh.InFrontOfAsync(_profile, gatewayPort, ("registry", _registry), ("returns", _returns));
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _returns.DisposeAsync();
        await _registry.DisposeAsync();
        await _profile.DisposeAsync();
    }

    private CallOptions As(string partner, string purpose) => GatewayMesh.Options(_mesh.As(partner, purpose));

    private ReturnCoordination.ReturnCoordinationClient Returns => new(_mesh.Channel);

    private async Task<string> RegisterAsync(string requestId) =>
        (await _mesh.Channel.Registry().RegisterVictimAsync(new RegisterVictimRequest
        {
            ClientRequestId = requestId,
            InitialStatus = VictimStatus.Possible,
            LinkKeys = { new PersonLinkKey { Kind = LinkKeyKind.TravelDocument, KeyedHash = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), KeyId = "chain-2026-1" } },
        }, As("comensha", "victim_care"))).Registration.RegistrationId;

    private PlanVoluntaryReturnRequest Plan(string returnCaseId) => new()
    {
        ClientRequestId = Guid.NewGuid().ToString(),
        ReturnCaseId = returnCaseId,
        RequestedOn = Today.ToDate(),
        DestinationCountryCode = "NG",
        NationalityCountryCode = "NG",
        PlannedDepartureOn = Today.AddDays(14).ToDate(),
    };

    [Fact]
    public async Task Through_the_gateway_no_departure_is_planned_while_suspended_and_it_resumes_on_the_INDs_decision()
    {
        var registrationId = await RegisterAsync("rp-d9");
        var suspended = (await Returns.OpenD9SignalAsync(new OpenD9SignalRequest { ClientRequestId = "d9-1", RegistrationId = registrationId, OpenedOn = Today.ToDate() }, As("dtv", "return"))).ReturnCase;

        var refused = await Assert.ThrowsAsync<RpcException>(() => Returns.PlanVoluntaryReturnAsync(Plan(suspended.ReturnCaseId), As("iom", "return")).ResponseAsync);
        var early = await Assert.ThrowsAsync<RpcException>(() => Returns.LiftD9SuspensionAsync(new LiftD9SuspensionRequest { ReturnCaseId = suspended.ReturnCaseId }, As("dtv", "return")).ResponseAsync);
        await _mesh.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registrationId,
            Residence = new ResidenceStatus
            {
                LegalStay = LegalStay.Irregular,
                TemporaryResidence = new TemporaryResidence { Ground = TemporaryResidenceGround.Aangifte, AppliedOn = Today.ToDate(), Decision = ResidenceDecision.Refused, DecidedOn = Today.ToDate() },
            },
        }, As("ind", "residence"));
        ReturnCase? resumed = null;
        await Eventually.SucceedsAsync(async () =>
        {
            resumed = (await Returns.GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = suspended.ReturnCaseId }, As("dtv", "return"))).ReturnCase;
            Assert.Equal(D9State.Lifted, resumed.D9.State);
        }, TimeSpan.FromSeconds(60));
        var planned = (await Returns.PlanVoluntaryReturnAsync(Plan(suspended.ReturnCaseId), As("iom", "return"))).ReturnCase;

        Assert.Equal(D9State.DepartureSuspended, suspended.D9.State);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("departure is suspended", refused.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, early.StatusCode);
        Assert.Equal(D9LiftReason.ResidenceRefused, resumed!.D9.LiftReason);
        Assert.Equal(ReturnPlanState.Planned, planned.Plan.State);
    }

    [Fact]
    public async Task Through_the_gateway_CoMensha_sees_a_return_only_while_the_victims_written_consent_is_in_force()
    {
        var registrationId = await RegisterAsync("rp-consent");
        var planned = (await Returns.PlanVoluntaryReturnAsync(new PlanVoluntaryReturnRequest
        {
            ClientRequestId = "plan-consent", RegistrationId = registrationId, RequestedOn = Today.ToDate(), DestinationCountryCode = "BG", NationalityCountryCode = "BG",
        }, As("iom", "return"))).ReturnCase;
        var departed = (await Returns.RecordDepartureAsync(new RecordDepartureRequest
        {
            ReturnCaseId = planned.ReturnCaseId, Departure = new Departure { Kind = DepartureKind.IomVoluntary, DepartedOn = Today.ToDate(), DestinationCountryCode = "BG" },
        }, As("iom", "return"))).ReturnCase;
        var before = (await Returns.GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("comensha", "victim_care"))).ReturnCase;
        var oral = (await _mesh.Channel.Registry().RecordConsentAsync(Consent("consent-oral", registrationId, ConsentForm.OralRecorded), As("iom", "return"))).Consent;
        var written = (await _mesh.Channel.Registry().RecordConsentAsync(Consent("consent-written", registrationId, ConsentForm.Written), As("iom", "return"))).Consent;

        var oralRefused = await Assert.ThrowsAsync<RpcException>(() => Returns.ShareReturnWithCoMenshaAsync(new ShareReturnWithCoMenshaRequest { ReturnCaseId = departed.ReturnCaseId, ConsentId = oral.ConsentId }, As("iom", "return")).ResponseAsync);
        ShareReturnWithCoMenshaResponse? shared = null;
        await Eventually.SucceedsAsync(async () => shared = await Returns.ShareReturnWithCoMenshaAsync(new ShareReturnWithCoMenshaRequest { ReturnCaseId = departed.ReturnCaseId, ConsentId = written.ConsentId }, As("iom", "return")), TimeSpan.FromSeconds(60));
        var withConsent = (await Returns.GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("comensha", "victim_care"))).ReturnCase;
        await _mesh.Channel.Registry().RecordConsentAsync(new RecordConsentRequest
        {
            ClientRequestId = "consent-withdrawn", Consent = new Consent { ConsentId = written.ConsentId, State = ConsentState.Withdrawn },
        }, As("iom", "return"));
        ReturnCase? withdrawn = null;
        await Eventually.SucceedsAsync(async () =>
        {
            withdrawn = (await Returns.GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("comensha", "victim_care"))).ReturnCase;
            Assert.Null(withdrawn.Departure);
        }, TimeSpan.FromSeconds(60));
        var notGranted = await Assert.ThrowsAsync<RpcException>(() => Returns.GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("police", "criminal_investigation")).ResponseAsync);

        Assert.Equal(new ReturnCase { ReturnCaseId = departed.ReturnCaseId, RegistrationId = registrationId }, before);
        Assert.Equal(StatusCode.FailedPrecondition, oralRefused.StatusCode);
        Assert.Equal(written.ConsentId, shared!.ReturnCase.SharingConsentId);
        Assert.Equal(departed.Departure, withConsent.Departure);
        // The gateway's mask for CoMensha: the return, not DT&V's or IOM's working data.
        Assert.Null(withConsent.Plan?.SupportCap);
        Assert.Empty(withConsent.LinkKeys);
        Assert.Equal(new ReturnCase { ReturnCaseId = departed.ReturnCaseId, RegistrationId = registrationId }, withdrawn);
        Assert.Equal(StatusCode.PermissionDenied, notGranted.StatusCode);
    }

    private static RecordConsentRequest Consent(string requestId, string registrationId, ConsentForm form) => new()
    {
        ClientRequestId = requestId,
        Consent = new Consent
        {
            RegistrationId = registrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Iom, RecipientPartner = PartnerType.Comensha,
            Topics = { DisclosureTopic.Return }, Form = form, GivenOn = Today.ToDate(), DocumentReference = $"iom/{requestId}",
        },
    };
}
