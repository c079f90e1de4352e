using Chain.Common.V1;
using Chain.Registry.V1;
using Chain.Returns.V1;
using Chain.Risk.V1;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Ketenmesh.Contracts;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Returns.Domain;
using Ketenmesh.Returns.Persistence;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Returns.Tests.ReturnsHost;

namespace Ketenmesh.Returns.Tests;

/// <summary>
/// Return coordination's rules, run once on SQLite (<see cref="SqliteReturnCoordinationTests"/>) and once
/// on PostgreSQL (<see cref="PostgresReturnCoordinationTests"/>): the D9 suspension and its resumption
/// on the registry's residence decision, IOM's plan with its support cap, 30-day target and monitoring
/// on a moved clock, the re-trafficking assessment, and consent on every path CoMensha could learn by.
/// </summary>
public abstract class ReturnCoordinationTests : IAsyncLifetime
{
    protected readonly MovableClock Clock = new(DateTimeOffset.UtcNow);
    protected readonly ReturnsEvents Events = new();
    private ComponentHost _host = null!;

    private ChannelBase Client => _host.Channel;

    private DateOnly Today => DateOnly.FromDateTime(Clock.GetUtcNow().UtcDateTime);

    protected abstract Task<ComponentHost> StartAsync();

    public async Task InitializeAsync() => _host = await StartAsync();

    public virtual async Task DisposeAsync() => await _host.DisposeAsync();

    private static string NewRegistration() => $"reg-{Guid.NewGuid():N}";

    private async Task<ReturnCase> OpenD9Async(string registrationId) =>
        (await Client.Returns().OpenD9SignalAsync(new OpenD9SignalRequest { ClientRequestId = Guid.NewGuid().ToString(), RegistrationId = registrationId, OpenedOn = Day(Today), SignalId = "sig-1" }, As("dtv"))).ReturnCase;

    private PlanVoluntaryReturnRequest Plan(string? registrationId = null, string? returnCaseId = null, string nationality = "NG", params InKindSupport[] support) => new()
    {
        ClientRequestId = Guid.NewGuid().ToString(),
        RegistrationId = registrationId ?? "",
        ReturnCaseId = returnCaseId ?? "",
        RequestedOn = Day(Today),
        IntakeOn = Day(Today),
        DestinationCountryCode = nationality,
        NationalityCountryCode = nationality,
        PlannedDepartureOn = Day(Today.AddDays(20)),
        Support = { support },
    };

    private async Task<ReturnCase> DepartAsync(string registrationId)
    {
        var planned = (await Client.Returns().PlanVoluntaryReturnAsync(Plan(registrationId), As("iom"))).ReturnCase;
        return (await Client.Returns().RecordDepartureAsync(new RecordDepartureRequest
        {
            ReturnCaseId = planned.ReturnCaseId,
            Departure = new Departure { Kind = DepartureKind.IomVoluntary, DepartedOn = Day(Today), DestinationCountryCode = "NG" },
            ExpectedVersion = planned.Version,
        }, As("iom"))).ReturnCase;
    }

    /// <summary>What the service's database holds, read past the service's answers.</summary>
    private async Task<int> CountAsync(Func<ReturnsDbContext, Task<int>> count)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        return await count(scope.ServiceProvider.GetRequiredService<ReturnsDbContext>());
    }

    private static async Task<RpcException?> RefusalOf(Task call)
    {
        try
        {
            await call;
            return null;
        }
        catch (RpcException refusal)
        {
            return refusal;
        }
    }

    private static void AssertFieldProblem(RpcException refusal, string field)
    {
        Assert.Equal(StatusCode.InvalidArgument, refusal.StatusCode);
        var badRequest = refusal.GetRpcStatus()!.GetDetail<BadRequest>();
        Assert.Contains(badRequest.FieldViolations, v => v.Field == field);
    }

    [Fact]
    public async Task A_D9_signal_with_more_link_keys_than_a_person_has_is_refused_and_none_is_kept()
    {
        var keys = Enumerable.Range(0, PersonLinkKeys.MaxPerMessage + 1).Select(i => new PersonLinkKey
        {
            Kind = LinkKeyKind.TravelDocument,
            KeyedHash = ByteString.CopyFrom(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))),
            KeyId = "chain-2026",
        });
        var request = new OpenD9SignalRequest { ClientRequestId = Guid.NewGuid().ToString(), RegistrationId = "reg-d9-keys", OpenedOn = Day(Today), SignalId = "sig-1", LinkKeys = { keys } };

        var refusal = await RefusalOf(Client.Returns().OpenD9SignalAsync(request, As("dtv")).ResponseAsync);
        request.LinkKeys.RemoveAt(0);
        var opened = (await Client.Returns().OpenD9SignalAsync(request, As("dtv"))).ReturnCase;

        AssertFieldProblem(refusal!, "link_keys");
        Assert.Equal(PersonLinkKeys.MaxPerMessage, opened.LinkKeys.Count);
    }

    [Fact]
    public async Task No_departure_is_planned_or_recorded_while_a_D9_suspension_is_open()
    {
        var registrationId = NewRegistration();
        var suspended = await OpenD9Async(registrationId);
        var suspendedEvent = await EventuallyAsync(() => Events.Suspended.FirstOrDefault(e => e.ReturnCaseId == suspended.ReturnCaseId));

        var plan = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().PlanVoluntaryReturnAsync(Plan(returnCaseId: suspended.ReturnCaseId), As("iom")).ResponseAsync);
        var byRegistration = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().PlanVoluntaryReturnAsync(Plan(registrationId), As("iom")).ResponseAsync);
        var departure = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().RecordDepartureAsync(new RecordDepartureRequest
        {
            ReturnCaseId = suspended.ReturnCaseId,
            Departure = new Departure { Kind = DepartureKind.Forced, DepartedOn = Day(Today), DestinationCountryCode = "NG" },
        }, As("dtv")).ResponseAsync);
        var read = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = suspended.ReturnCaseId }, As("iom"))).ReturnCase;

        Assert.Equal(D9State.DepartureSuspended, suspended.D9.State);
        Assert.Equal(suspended.D9.D9Id, suspendedEvent.D9Id);
        foreach (var refusal in new[] { plan, byRegistration, departure })
        {
            Assert.Equal(StatusCode.FailedPrecondition, refusal.StatusCode);
            Assert.Contains("departure is suspended", refusal.Status.Detail);
            Assert.Contains("residence decision", refusal.Status.Detail);
        }
        Assert.Null(read.Plan);
        Assert.Null(read.Departure);
    }

    [Fact]
    public async Task Departure_resumes_only_once_the_registry_records_a_residence_decision()
    {
        var registrationId = NewRegistration();
        var suspended = await OpenD9Async(registrationId);

        var tooEarly = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().LiftD9SuspensionAsync(new LiftD9SuspensionRequest { ReturnCaseId = suspended.ReturnCaseId, LiftReason = D9LiftReason.ResidenceRefused }, As("dtv")).ResponseAsync);
        // An application that is still pending is no decision: the suspension holds.
        await _host.PublishAsync(Residence(registrationId, 3, ResidenceDecision.Pending));
        await _host.PublishAsync(Residence(registrationId, 5, ResidenceDecision.Refused));
        var resumed = await EventuallyAsync(() => Events.Resumed.FirstOrDefault(e => e.ReturnCaseId == suspended.ReturnCaseId));
        var after = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = suspended.ReturnCaseId }, As("dtv"))).ReturnCase;
        var planned = (await Client.Returns().PlanVoluntaryReturnAsync(Plan(returnCaseId: suspended.ReturnCaseId), As("iom"))).ReturnCase;

        Assert.Equal(StatusCode.FailedPrecondition, tooEarly.StatusCode);
        Assert.Contains("residence decision", tooEarly.Status.Detail);
        Assert.Equal(D9LiftReason.ResidenceRefused, resumed.LiftReason);
        Assert.Equal(D9State.Lifted, after.D9.State);
        Assert.Equal(D9LiftReason.ResidenceRefused, after.D9.LiftReason);
        Assert.Equal(ReturnPlanState.Planned, planned.Plan.State);
        Assert.Single(Events.Resumed, e => e.ReturnCaseId == suspended.ReturnCaseId);
    }

    [Fact]
    public async Task DTV_lifts_a_suspension_by_hand_only_in_line_with_the_recorded_decision()
    {
        var registrationId = NewRegistration();
        // The decision came first (the IND decided before DT&V saw the signs): the suspension may be lifted at once.
        await _host.PublishAsync(Residence(registrationId, 2, ResidenceDecision.Granted));
        await Eventually.SucceedsAsync(async () =>
        {
            await using var scope = _host.Services.CreateAsyncScope();
            Assert.Equal(ResidenceOutcome.Granted, await scope.ServiceProvider.GetRequiredService<RegistryKnowledge>().ResidenceOfAsync(registrationId, CancellationToken.None));
        });
        var suspended = await OpenD9Async(registrationId);

        var wrongReason = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().LiftD9SuspensionAsync(new LiftD9SuspensionRequest { ReturnCaseId = suspended.ReturnCaseId, LiftReason = D9LiftReason.ResidenceRefused }, As("dtv")).ResponseAsync);
        var lifted = await Client.Returns().LiftD9SuspensionAsync(new LiftD9SuspensionRequest { ReturnCaseId = suspended.ReturnCaseId, ExpectedVersion = suspended.Version }, As("dtv"));

        AssertFieldProblem(wrongReason, "lift_reason");
        Assert.Equal(D9State.Lifted, lifted.ReturnCase.D9.State);
        Assert.Equal(D9LiftReason.ResidenceGranted, lifted.ReturnCase.D9.LiftReason);
        await EventuallyAsync(() => Events.Resumed.FirstOrDefault(e => e.ReturnCaseId == suspended.ReturnCaseId));
    }

    [Fact]
    public async Task In_kind_support_is_capped_at_500_euro_for_EU_nationals_and_1500_for_others()
    {
        var eu = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().PlanVoluntaryReturnAsync(
            Plan(NewRegistration(), nationality: "RO", support: [new InKindSupport { Kind = SupportKind.Housing, Amount = Euro(300) }, new InKindSupport { Kind = SupportKind.Education, Amount = Euro(201) }]), As("iom")).ResponseAsync);
        var euAtCap = (await Client.Returns().PlanVoluntaryReturnAsync(
            Plan(NewRegistration(), nationality: "RO", support: [new InKindSupport { Kind = SupportKind.Housing, Amount = Euro(500) }]), As("iom"))).ReturnCase;
        var otherAtCap = (await Client.Returns().PlanVoluntaryReturnAsync(
            Plan(NewRegistration(), nationality: "NG", support: [new InKindSupport { Kind = SupportKind.BusinessStart, Amount = Euro(1500) }]), As("iom"))).ReturnCase;
        var other = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().PlanVoluntaryReturnAsync(
            Plan(NewRegistration(), nationality: "NG", support: [new InKindSupport { Kind = SupportKind.BusinessStart, Amount = Euro(1501) }]), As("iom")).ResponseAsync);
        var cash = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().PlanVoluntaryReturnAsync(
            Plan(NewRegistration(), support: [new InKindSupport { Amount = new Money { CurrencyCode = "USD", AmountMinorUnits = -5 } }]), As("iom")).ResponseAsync);

        AssertFieldProblem(eu, "support");
        AssertFieldProblem(other, "support");
        AssertFieldProblem(cash, "support[0].kind");
        AssertFieldProblem(cash, "support[0].amount");
        Assert.Equal(Euro(500), euAtCap.Plan.SupportCap);
        Assert.Equal(Euro(1500), otherAtCap.Plan.SupportCap);
        Assert.Equal(Day(Today.AddDays(30)), otherAtCap.Plan.TargetDepartureBy);
    }

    [Fact]
    public async Task A_plan_without_departure_is_flagged_at_risk_a_week_before_its_30_day_target()
    {
        var planned = (await Client.Returns().PlanVoluntaryReturnAsync(Plan(NewRegistration()), As("iom"))).ReturnCase;

        Clock.Advance(TimeSpan.FromDays(22));
        await RunDeadlinesAsync(_host);
        var notYet = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = planned.ReturnCaseId }, As("iom"))).ReturnCase;
        Clock.Advance(TimeSpan.FromDays(1));
        var atRisk = await EventuallyAsync(() => Events.AtRisk.FirstOrDefault(e => e.ReturnCaseId == planned.ReturnCaseId));
        var flagged = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = planned.ReturnCaseId }, As("iom"))).ReturnCase;

        Assert.False(notYet.Plan.TargetAtRisk);
        Assert.Equal(7, atRisk.DaysRemaining);
        Assert.Equal(planned.Plan.TargetDepartureBy, atRisk.TargetDepartureBy);
        Assert.True(flagged.Plan.TargetAtRisk);
        Assert.Equal(0, (await RunDeadlinesAsync(_host)).AtRisk);
    }

    [Fact]
    public async Task Monitoring_runs_six_months_after_departure_and_an_overdue_check_in_is_raised()
    {
        var departed = await DepartAsync(NewRegistration());
        var departedEvent = await EventuallyAsync(() => Events.Departed.FirstOrDefault(e => e.ReturnCaseId == departed.ReturnCaseId));

        Clock.Advance(TimeSpan.FromDays(20));
        var checkedIn = (await Client.Returns().RecordMonitoringAsync(new RecordMonitoringRequest
        {
            ReturnCaseId = departed.ReturnCaseId,
            Contact = new MonitoringContact { ContactOn = Day(Today), Progress = ReintegrationProgress.AtRisk, RiskFactors = { RetraffickingRiskFactor.Addiction } },
        }, As("iom"))).ReturnCase;
        await EventuallyAsync(() => Events.CheckIns.FirstOrDefault(e => e.ReturnCaseId == departed.ReturnCaseId));
        Clock.Advance(TimeSpan.FromDays(30));
        await RunDeadlinesAsync(_host);
        var onTime = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("iom"))).ReturnCase;
        Clock.Advance(TimeSpan.FromDays(1));
        var overdue = await EventuallyAsync(() => Events.Overdue.FirstOrDefault(e => e.ReturnCaseId == departed.ReturnCaseId));
        var late = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("iom"))).ReturnCase;
        var tooLate = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().RecordMonitoringAsync(new RecordMonitoringRequest
        {
            ReturnCaseId = departed.ReturnCaseId,
            Contact = new MonitoringContact { ContactOn = Day(departed.Departure.DepartedOn.ToDateOnly()!.Value.AddDays(-1)), Progress = ReintegrationProgress.OnTrack },
        }, As("iom")).ResponseAsync);

        Assert.Equal(departed.Departure.DepartedOn, departedEvent.DepartedOn);
        Assert.Equal(Day(DateOnly.FromDateTime(Clock.GetUtcNow().UtcDateTime).AddDays(-51).AddMonths(6)), departed.MonitoringUntil);
        Assert.False(onTime.CheckInOverdue);
        Assert.True(late.CheckInOverdue);
        Assert.Equal(checkedIn.NextCheckInDue, overdue.DueOn);
        Assert.Contains(RetraffickingRiskFactor.Addiction, checkedIn.RiskFactors);
        Assert.Equal(StatusCode.InvalidArgument, tooLate.StatusCode);
    }

    [Fact]
    public async Task Check_ins_stay_due_after_the_IOM_return_outcome_until_monitoring_ends()
    {
        var departed = await DepartAsync(NewRegistration());
        var closed = (await Client.Returns().RecordReturnOutcomeAsync(new RecordReturnOutcomeRequest { ReturnCaseId = departed.ReturnCaseId, Outcome = ReturnOutcome.IomReturn }, As("iom"))).ReturnCase;

        Clock.Advance(TimeSpan.FromDays(31));
        var overdue = await EventuallyAsync(() => Events.Overdue.FirstOrDefault(e => e.ReturnCaseId == departed.ReturnCaseId));
        var checkedIn = (await Client.Returns().RecordMonitoringAsync(new RecordMonitoringRequest
        {
            ReturnCaseId = departed.ReturnCaseId,
            Contact = new MonitoringContact { ContactOn = Day(Today), Progress = ReintegrationProgress.OnTrack },
        }, As("iom"))).ReturnCase;

        Assert.True(closed.LeftReturnTrack);
        Assert.Equal(departed.NextCheckInDue, closed.NextCheckInDue);
        Assert.Equal(departed.NextCheckInDue, overdue.DueOn);
        Assert.False(checkedIn.CheckInOverdue);
        Assert.Equal(Day(Today.AddDays(30)), checkedIn.NextCheckInDue);
    }

    [Fact]
    public async Task A_case_that_left_the_return_track_takes_no_plan_departure_or_monitoring()
    {
        var planned = (await Client.Returns().PlanVoluntaryReturnAsync(Plan(NewRegistration()), As("iom"))).ReturnCase;
        var left = (await Client.Returns().RecordReturnOutcomeAsync(new RecordReturnOutcomeRequest { ReturnCaseId = planned.ReturnCaseId, Outcome = ReturnOutcome.LeftUnknownDestination }, As("iom"))).ReturnCase;
        var departed = await DepartAsync(NewRegistration());
        await Client.Returns().RecordReturnOutcomeAsync(new RecordReturnOutcomeRequest { ReturnCaseId = departed.ReturnCaseId, Outcome = ReturnOutcome.ResidencePermit }, As("iom"));

        var plan = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().PlanVoluntaryReturnAsync(Plan(returnCaseId: planned.ReturnCaseId), As("iom")).ResponseAsync);
        var departure = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().RecordDepartureAsync(new RecordDepartureRequest
        {
            ReturnCaseId = planned.ReturnCaseId,
            Departure = new Departure { Kind = DepartureKind.Forced, DepartedOn = Day(Today), DestinationCountryCode = "NG" },
        }, As("dtv")).ResponseAsync);
        var monitoring = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().RecordMonitoringAsync(new RecordMonitoringRequest
        {
            ReturnCaseId = departed.ReturnCaseId,
            Contact = new MonitoringContact { ContactOn = Day(Today), Progress = ReintegrationProgress.OnTrack },
        }, As("iom")).ResponseAsync);
        var after = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = planned.ReturnCaseId }, As("iom"))).ReturnCase;

        foreach (var refusal in new[] { plan, departure, monitoring })
        {
            Assert.Equal(StatusCode.FailedPrecondition, refusal.StatusCode);
            Assert.Contains("left the return track", refusal.Status.Detail);
        }
        Assert.Equal(left, after);
        Assert.Equal(ReturnPlanState.Cancelled, after.Plan.State);
    }

    [Fact]
    public async Task The_retrafficking_risk_before_departure_is_scored_and_explained_rule_by_rule()
    {
        var request = Plan(NewRegistration());
        request.RiskFactors.Add([RetraffickingRiskFactor.NoFamilyNetwork, RetraffickingRiskFactor.PoorHomeEconomy, RetraffickingRiskFactor.PsychologicalProblems]);
        var planned = (await Client.Returns().PlanVoluntaryReturnAsync(request, As("iom"))).ReturnCase;
        var none = (await Client.Returns().PlanVoluntaryReturnAsync(Plan(NewRegistration()), As("iom"))).ReturnCase;

        var assessment = planned.RetraffickingAssessment;
        Assert.Equal("retrafficking-2026.1", assessment.RuleSetVersion);
        Assert.Equal(["RET-801", "RET-803", "RET-804", "RET-810"], assessment.Contributions.Select(c => c.RuleId).Order());
        Assert.Equal(assessment.Contributions.Sum(c => c.Weight), assessment.Score);
        // 25 + 20 + 15, and 15 more for no network in a poor economy: 75, CRITICAL from 70.
        Assert.Equal(75, assessment.Score);
        Assert.Equal(RiskBand.Critical, assessment.Band);
        Assert.All(assessment.Contributions, c => Assert.Equal(IndicatorCatalogue.Retrafficking, c.Catalogue));
        Assert.All(assessment.Contributions, c => Assert.False(string.IsNullOrWhiteSpace(c.Explanation)));
        Assert.Equal(0, none.RetraffickingAssessment.Score);
        Assert.Equal(RiskBand.Low, none.RetraffickingAssessment.Band);
    }

    [Fact]
    public async Task CoMensha_learns_of_a_return_only_under_the_victims_written_consent_on_every_path()
    {
        var registrationId = NewRegistration();
        var departed = await DepartAsync(registrationId);
        var other = NewRegistration();
        // Consents that do not count: oral, to another recipient, another topic, someone else's, expired.
        await _host.PublishAsync(ReturnConsent("con-oral", registrationId, form: ConsentForm.OralRecorded));
        await _host.PublishAsync(ReturnConsent("con-shelter", registrationId, recipient: PartnerType.Shelter));
        await _host.PublishAsync(ReturnConsent("con-topic", registrationId, topic: DisclosureTopic.Residence));
        await _host.PublishAsync(ReturnConsent("con-other", other));
        await _host.PublishAsync(ReturnConsent("con-expired", registrationId, validUntil: Day(Today.AddDays(-1))));

        async Task<RpcException> ShareRefusedAsync(string consentId) => await Assert.ThrowsAsync<RpcException>(() => Client.Returns().ShareReturnWithCoMenshaAsync(new ShareReturnWithCoMenshaRequest { ReturnCaseId = departed.ReturnCaseId, ConsentId = consentId }, As("iom")).ResponseAsync);
        var refusals = new List<RpcException>();
        foreach (var consentId in new[] { "con-oral", "con-shelter", "con-topic", "con-other", "con-expired", "con-unknown" })
        {
            refusals.Add(await ShareRefusedAsync(consentId));
        }
        var withoutConsent = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("comensha"))).ReturnCase;

        await _host.PublishAsync(ReturnConsent("con-written", registrationId));
        ShareReturnWithCoMenshaResponse? shared = null;
        await Eventually.SucceedsAsync(async () => shared = await Client.Returns().ShareReturnWithCoMenshaAsync(new ShareReturnWithCoMenshaRequest { ReturnCaseId = departed.ReturnCaseId, ConsentId = "con-written" }, As("iom")));
        var withConsent = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("comensha"))).ReturnCase;

        await _host.PublishAsync(ReturnConsent("con-written", registrationId, state: ConsentState.Withdrawn));
        ReturnCase? afterWithdrawal = null;
        await Eventually.SucceedsAsync(async () =>
        {
            afterWithdrawal = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("comensha"))).ReturnCase;
            Assert.Null(afterWithdrawal.Departure);
        });
        // A late copy of the recording does not bring a withdrawn consent back.
        await _host.PublishAsync(ReturnConsent("con-written", registrationId));
        var outcome = await Client.Returns().RecordReturnOutcomeAsync(new RecordReturnOutcomeRequest { ReturnCaseId = departed.ReturnCaseId, Outcome = ReturnOutcome.IomReturn }, As("iom"));
        var withheld = await EventuallyAsync(() => Events.Outcomes.FirstOrDefault(e => e.ReturnCaseId == departed.ReturnCaseId));
        var closedForCoMensha = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("comensha"))).ReturnCase;

        Assert.All(refusals, r => Assert.Equal(StatusCode.FailedPrecondition, r.StatusCode));
        // One answer whatever the consent is: nothing tells IOM about a consent it did not record.
        Assert.Single(refusals.Select(r => r.Status.Detail.Replace(r.Status.Detail.Split('\'')[1], "", StringComparison.Ordinal)).Distinct());
        Assert.Equal(new ReturnCase { ReturnCaseId = departed.ReturnCaseId, RegistrationId = registrationId }, withoutConsent);
        Assert.Equal("con-written", shared!.ReturnCase.SharingConsentId);
        Assert.Equal(departed.Departure, withConsent.Departure);
        Assert.Equal(new ReturnCase { ReturnCaseId = departed.ReturnCaseId, RegistrationId = registrationId }, afterWithdrawal);
        Assert.Equal(ReturnOutcome.IomReturn, outcome.ReturnCase.Outcome);
        Assert.True(withheld.OutcomeWithheld);
        Assert.Equal(ReturnOutcome.Unspecified, withheld.Outcome);
        Assert.Equal(new ReturnCase { ReturnCaseId = departed.ReturnCaseId, RegistrationId = registrationId, LeftReturnTrack = true }, closedForCoMensha);
    }

    /// <summary>Waits until this service's own tables show what an event was to leave there.</summary>
    private async Task KnownAsync(Func<ReturnsDbContext, Task<bool>> known) => await Eventually.SucceedsAsync(async () =>
    {
        await using var scope = _host.Services.CreateAsyncScope();
        Assert.True(await known(scope.ServiceProvider.GetRequiredService<ReturnsDbContext>()));
    });

    private static Chain.Events.V1.RegistrationsMerged Merged(string survivor, params string[] merged) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        SurvivingRegistrationId = survivor,
        MergedRegistrationIds = { merged },
        Reason = MergeReason.DuplicateReport,
    };

    private async Task<ReturnCase> ReadAsync(string returnCaseId, string partner = "dtv") =>
        (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = returnCaseId }, As(partner))).ReturnCase;

    [Fact]
    public async Task A_case_and_its_consent_on_a_merged_registration_follow_the_survivor_once_and_its_decision_lifts_the_suspension()
    {
        var survivor = NewRegistration();
        var duplicate = NewRegistration();
        var suspended = await OpenD9Async(duplicate);
        // Before the merge: the victim's consent under the merged registration, and the survivor's residence decision.
        await _host.PublishAsync(ReturnConsent("con-merged", duplicate));
        await _host.PublishAsync(Residence(survivor, 4, ResidenceDecision.Granted));
        await KnownAsync(async db => await db.Consents.AnyAsync(c => c.ConsentId == "con-merged") && await db.Residence.AnyAsync(r => r.RegistrationId == survivor));

        var merge = Merged(survivor, duplicate);
        var messageId = Guid.NewGuid();
        var copy = Guid.NewGuid();
        await _host.PublishAsync(merge, messageId);
        await _host.PublishAsync(merge, messageId);
        await _host.PublishAsync(merge, copy);
        await KnownAsync(db => db.Set<InboxMessage>().AnyAsync(m => m.MessageId == copy));
        var followed = await ReadAsync(suspended.ReturnCaseId);
        var resumed = await EventuallyAsync(() => Events.Resumed.FirstOrDefault(e => e.ReturnCaseId == suspended.ReturnCaseId));
        var forCoMensha = await ReadAsync(suspended.ReturnCaseId, "comensha");
        // DT&V still knows the person by the merged registration: the open case on the survivor is the one.
        var again = (await Client.Returns().OpenD9SignalAsync(new OpenD9SignalRequest { ClientRequestId = Guid.NewGuid().ToString(), RegistrationId = duplicate, OpenedOn = Day(Today), SignalId = "sig-2" }, As("dtv"))).ReturnCase;

        Assert.Equal(survivor, followed.RegistrationId);
        Assert.Equal(suspended.Version + 1, followed.Version);
        Assert.Equal((D9State.Lifted, D9LiftReason.ResidenceGranted), (followed.D9.State, followed.D9.LiftReason));
        Assert.Equal(survivor, resumed.RegistrationId);
        Assert.Single(Events.Resumed, e => e.ReturnCaseId == suspended.ReturnCaseId);
        Assert.Equal(followed.D9, forCoMensha.D9);
        Assert.Equal((suspended.ReturnCaseId, survivor), (again.ReturnCaseId, again.RegistrationId));
    }

    [Fact]
    public async Task When_both_merged_registrations_had_an_open_case_the_survivors_stays_open_and_takes_over_the_suspension()
    {
        var survivor = NewRegistration();
        var duplicate = NewRegistration();
        var survivorsCase = (await Client.Returns().PlanVoluntaryReturnAsync(Plan(survivor), As("iom"))).ReturnCase;
        var suspended = await OpenD9Async(duplicate);

        await _host.PublishAsync(Merged(survivor, duplicate));
        await KnownAsync(db => db.Cases.AnyAsync(c => c.ReturnCaseId == suspended.ReturnCaseId && c.RegistrationId == survivor));
        var kept = await ReadAsync(survivorsCase.ReturnCaseId);
        var closed = await ReadAsync(suspended.ReturnCaseId);
        var refused = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().RecordDepartureAsync(new RecordDepartureRequest
        {
            ReturnCaseId = kept.ReturnCaseId, Departure = new Departure { Kind = DepartureKind.IomVoluntary, DepartedOn = Day(Today), DestinationCountryCode = "NG" },
        }, As("iom")).ResponseAsync);

        Assert.False(kept.LeftReturnTrack);
        Assert.Equal(D9State.DepartureSuspended, kept.D9.State);
        Assert.True(closed.LeftReturnTrack);
        Assert.Equal(survivor, closed.RegistrationId);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
    }

    /// <summary>The events of a type the service committed, read from its outbox: all of them, delivered or not.</summary>
    private async Task<List<T>> CommittedAsync<T>(MessageParser<T> parser) where T : IMessage<T>
    {
        await using var scope = _host.Services.CreateAsyncScope();
        var name = parser.ParseFrom([]).Descriptor.FullName;
        var payloads = await scope.ServiceProvider.GetRequiredService<ReturnsDbContext>().Set<OutboxMessage>()
            .Where(m => m.MessageType == name).Select(m => m.Payload).ToListAsync();
        return payloads.Select(parser.ParseFrom).ToList();
    }

    [Fact]
    public async Task A_merge_that_closes_a_case_moves_its_suspension_tells_both_changes_and_resumes_the_D9_once()
    {
        var survivor = NewRegistration();
        var duplicate = NewRegistration();
        var survivorsCase = (await Client.Returns().PlanVoluntaryReturnAsync(Plan(survivor), As("iom"))).ReturnCase;
        var suspended = await OpenD9Async(duplicate);
        var d9 = suspended.D9.D9Id;

        await _host.PublishAsync(Merged(survivor, duplicate));
        var takenOver = await EventuallyAsync(() => Events.Suspended.FirstOrDefault(e => e.ReturnCaseId == survivorsCase.ReturnCaseId));
        var left = await EventuallyAsync(() => Events.Outcomes.FirstOrDefault(e => e.ReturnCaseId == suspended.ReturnCaseId));
        var closed = await ReadAsync(suspended.ReturnCaseId);
        var noOutcome = await RefusalOf(Client.Returns().RecordReturnOutcomeAsync(new RecordReturnOutcomeRequest { ReturnCaseId = suspended.ReturnCaseId, Outcome = ReturnOutcome.LeftUnknownDestination }, As("dtv")).ResponseAsync);
        await _host.PublishAsync(Residence(survivor, 7, ResidenceDecision.Refused));
        await KnownAsync(db => db.Cases.AnyAsync(c => c.ReturnCaseId == survivorsCase.ReturnCaseId && !c.DepartureSuspended));
        // Every DepartureResumed the decision caused was committed with the lift just seen: none can come later.
        var resumed = (await CommittedAsync(Chain.Events.V1.DepartureResumed.Parser)).Where(e => e.D9Id == d9).ToList();

        Assert.Equal((d9, survivor), (takenOver.D9Id, takenOver.RegistrationId));
        Assert.Equal((survivor, ReturnOutcome.Unspecified, false), (left.RegistrationId, left.Outcome, left.OutcomeWithheld));
        Assert.Equal(survivorsCase.ReturnCaseId, left.ContinuedInReturnCaseId);
        Assert.True(closed.LeftReturnTrack);
        Assert.Null(closed.D9);
        Assert.Equal(StatusCode.FailedPrecondition, noOutcome?.StatusCode);
        Assert.Equal(survivorsCase.ReturnCaseId, Assert.Single(resumed).ReturnCaseId);
    }

    [Fact]
    public async Task A_decision_sent_under_a_merged_registration_lifts_the_suspension_that_moved_to_the_survivor()
    {
        var survivor = NewRegistration();
        var duplicate = NewRegistration();
        var suspended = await OpenD9Async(duplicate);
        await _host.PublishAsync(Merged(survivor, duplicate));
        await KnownAsync(db => db.Cases.AnyAsync(c => c.ReturnCaseId == suspended.ReturnCaseId && c.RegistrationId == survivor));

        // The registry recorded the decision before the merge; it comes on another queue, after the merge's news.
        await _host.PublishAsync(Residence(duplicate, 5, ResidenceDecision.Granted));
        var resumed = await EventuallyAsync(() => Events.Resumed.FirstOrDefault(e => e.ReturnCaseId == suspended.ReturnCaseId));
        var after = await ReadAsync(suspended.ReturnCaseId);

        Assert.Equal((D9LiftReason.ResidenceGranted, survivor), (resumed.LiftReason, resumed.RegistrationId));
        Assert.Equal(D9State.Lifted, after.D9.State);
    }

    [Fact]
    public async Task News_that_comes_after_a_merge_reaches_the_case_on_the_survivor()
    {
        var survivor = NewRegistration();
        var duplicate = NewRegistration();
        var suspended = await OpenD9Async(duplicate);
        var merge = Merged(survivor, duplicate);
        await _host.PublishAsync(merge);
        await KnownAsync(db => db.Cases.AnyAsync(c => c.ReturnCaseId == suspended.ReturnCaseId && c.RegistrationId == survivor));

        // The registry's decision on the survivor comes after the merge; a consent sent under the merged id before it arrives late.
        await _host.PublishAsync(Residence(survivor, 6, ResidenceDecision.Refused));
        await _host.PublishAsync(ReturnConsent("con-late", duplicate));
        var resumed = await EventuallyAsync(() => Events.Resumed.FirstOrDefault(e => e.ReturnCaseId == suspended.ReturnCaseId));
        await KnownAsync(db => db.Consents.AnyAsync(c => c.ConsentId == "con-late"));
        var forCoMensha = await ReadAsync(suspended.ReturnCaseId, "comensha");

        Assert.Equal(D9LiftReason.ResidenceRefused, resumed.LiftReason);
        Assert.Equal(survivor, forCoMensha.RegistrationId);
        Assert.Equal(D9State.Lifted, forCoMensha.D9.State);
    }

    [Fact]
    public async Task Consent_news_arriving_out_of_order_leaves_the_newest_version_in_force()
    {
        var before = NewRegistration();
        var after = NewRegistration();
        // Version 2 says the consent is now about another registration (a merge moved it); version 1, about the first, comes late.
        var current = ReturnConsent("con-moved", after);
        current.Version = 2;
        var late = ReturnConsent("con-moved", before);
        late.Version = 1;
        var withdrawn = ReturnConsent("con-withdrawn", after, state: ConsentState.Withdrawn);
        withdrawn.Version = 2;
        var given = ReturnConsent("con-withdrawn", after);
        given.Version = 1;

        await RememberConsentsAsync(current, late, withdrawn, given);

        await using var scope = _host.Services.CreateAsyncScope();
        var registry = scope.ServiceProvider.GetRequiredService<RegistryKnowledge>();
        Assert.True(await registry.ReturnMayBeToldAsync(after, "con-moved", Today, CancellationToken.None));
        Assert.False(await registry.ReturnMayBeToldAsync(before, null, Today, CancellationToken.None));
        Assert.False(await registry.ReturnMayBeToldAsync(after, "con-withdrawn", Today, CancellationToken.None));
    }

    /// <summary>The consent news, one event at a time in the order given, as the consumer applies it.</summary>
    private async Task RememberConsentsAsync(params Chain.Events.V1.ConsentChanged[] news)
    {
        foreach (var item in news)
        {
            await using var scope = _host.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<RegistryKnowledge>().RememberConsentAsync(item, CancellationToken.None);
            await scope.ServiceProvider.GetRequiredService<ReturnsDbContext>().SaveChangesAsync();
        }
    }

    [Fact]
    public async Task The_outcome_is_told_to_the_chain_when_the_victims_written_consent_is_in_force()
    {
        var registrationId = NewRegistration();
        var departed = await DepartAsync(registrationId);
        await _host.PublishAsync(ReturnConsent($"con-{Guid.NewGuid():N}", registrationId));
        await Eventually.SucceedsAsync(async () =>
        {
            var read = (await Client.Returns().GetReturnCaseAsync(new GetReturnCaseRequest { ReturnCaseId = departed.ReturnCaseId }, As("comensha"))).ReturnCase;
            Assert.NotNull(read.Departure);
        });

        await Client.Returns().RecordReturnOutcomeAsync(new RecordReturnOutcomeRequest { ReturnCaseId = departed.ReturnCaseId, Outcome = ReturnOutcome.IomReturn }, As("iom"));
        var told = await EventuallyAsync(() => Events.Outcomes.FirstOrDefault(e => e.ReturnCaseId == departed.ReturnCaseId));

        Assert.False(told.OutcomeWithheld);
        Assert.Equal(ReturnOutcome.IomReturn, told.Outcome);
    }

    [Fact]
    public async Task A_retried_request_answers_the_same_case_marked_duplicate()
    {
        var request = Plan(NewRegistration());
        var first = await Client.Returns().PlanVoluntaryReturnAsync(request, As("iom"));
        var again = await Client.Returns().PlanVoluntaryReturnAsync(request, As("iom"));

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.ReturnCase, again.ReturnCase);
    }

    [Fact]
    public async Task Identical_requests_sent_at_once_all_answer_the_one_case_they_recorded()
    {
        var request = Plan(NewRegistration());

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Client.Returns().PlanVoluntaryReturnAsync(request, As("iom")).ResponseAsync));

        Assert.Single(answers, a => !a.Duplicate);
        Assert.Single(answers.Select(a => a.ReturnCase).Distinct());
        Assert.Equal(1, await CountAsync(db => db.Cases.CountAsync(c => c.RegistrationId == request.RegistrationId)));
        Assert.Equal(1, await CountAsync(db => db.Requests.CountAsync(r => r.PartnerId == "iom" && r.ClientRequestId == request.ClientRequestId)));
    }

    [Fact]
    public async Task A_D9_and_a_plan_arriving_at_once_make_one_open_case_whose_suspension_holds_the_plan()
    {
        // Several people at once, so the two requests for one of them overlap on at least one.
        var registrations = Enumerable.Range(0, 8).Select(_ => NewRegistration()).ToList();
        var races = await Task.WhenAll(registrations.Select(async registrationId =>
        {
            var suspending = OpenD9Async(registrationId);
            var planning = Client.Returns().PlanVoluntaryReturnAsync(Plan(registrationId), As("iom")).ResponseAsync;
            var planRefusal = await RefusalOf(planning);
            return (registrationId, Suspended: await suspending, Planned: planRefusal is null ? (await planning).ReturnCase : null, planRefusal);
        }));

        foreach (var (registrationId, suspended, planned, planRefusal) in races)
        {
            var later = await Assert.ThrowsAsync<RpcException>(() => Client.Returns().PlanVoluntaryReturnAsync(Plan(registrationId), As("iom")).ResponseAsync);

            Assert.Equal(1, await CountAsync(db => db.Cases.CountAsync(c => c.RegistrationId == registrationId && !c.Closed)));
            Assert.Equal(D9State.DepartureSuspended, suspended.D9.State);
            // The plan came first (and the D9 then suspended its case) or after (and was refused): never beside it.
            if (planned is not null)
            {
                Assert.Equal(suspended.ReturnCaseId, planned.ReturnCaseId);
            }
            else
            {
                Assert.Equal(StatusCode.FailedPrecondition, planRefusal!.StatusCode);
            }
            Assert.Equal(StatusCode.FailedPrecondition, later.StatusCode);
            Assert.Contains("departure is suspended", later.Status.Detail);
        }
    }
}

public sealed class SqliteReturnCoordinationTests : ReturnCoordinationTests
{
    protected override Task<ComponentHost> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("ketenmesh-returns-").FullName;
        return ReturnsHost.StartAsync(ComponentHost.EmbeddedSettings(new ReturnsComponent(), directory), Events, Clock, directory);
    }
}

public sealed class PostgresReturnCoordinationTests : ReturnCoordinationTests
{
    private TestDatabase _database = null!;

    protected override async Task<ComponentHost> StartAsync()
    {
        _database = await TestDatabase.CreateAsync("returns");
        return await ReturnsHost.StartAsync(_database.Settings("Database"), Events, Clock);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _database.DisposeAsync();
    }
}
