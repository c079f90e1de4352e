using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Returns.V1;
using Google.Protobuf;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;
using Ketenmesh.Contracts;
using Ketenmesh.Domain;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Persistence;
using Ketenmesh.Returns.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Returns.Domain;

/// <summary>
/// The return of one registered person: DT&amp;V's D9 suspension, IOM's voluntary return plan, the
/// departure, reintegration monitoring and the outcome, and what CoMensha may learn of it. Every change
/// and its event are saved together (outbox); a caller holding an old version is told to read again.
/// </summary>
public sealed class ReturnCases(ReturnsDbContext db, RegistryKnowledge registry, RetraffickingRules retrafficking, EventOutbox<ReturnsDbContext> outbox, TimeProvider clock, Microsoft.Extensions.Options.IOptions<ReturnDeadlineOptions> options)
{
    public DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    private Timestamp Now() => Timestamp.FromDateTimeOffset(clock.GetUtcNow());

    /// <summary>
    /// DT&amp;V found signs of trafficking during return: the departure is suspended (D9). Source:
    /// seeds/001…txt L6387–6389: "Hiermee wordt het D9-proces opgevoerd, inhoudende dat het initieel
    /// gedwongen vertrek van de vreemdeling wordt opgeschort."
    /// </summary>
    public Task<OpenD9SignalResponse> OpenD9Async(string partnerId, OpenD9SignalRequest request, CancellationToken cancellationToken) =>
        FirstWriterWinsAsync(() => OpenD9OnceAsync(partnerId, request, cancellationToken));

    private async Task<OpenD9SignalResponse> OpenD9OnceAsync(string partnerId, OpenD9SignalRequest request, CancellationToken cancellationToken)
    {
        var today = Today();
        var problems = new List<(string Field, string Description)>();
        RequireRequestId(request.ClientRequestId, problems);
        if (string.IsNullOrWhiteSpace(request.RegistrationId))
        {
            problems.Add(("registration_id", "is required: the residence decision that ends the suspension is recorded on the person's registration."));
        }
        var openedOn = Day(request.OpenedOn, "opened_on", today, problems);
        problems.AddRange(PersonLinkKeys.Problems(request.LinkKeys, "link_keys"));
        InvalidRequest.ThrowIfAny(problems);
        if (await EarlierAsync(partnerId, request.ClientRequestId, cancellationToken) is { } earlier)
        {
            return new OpenD9SignalResponse { ReturnCase = earlier, Duplicate = true };
        }
        var registrationId = await registry.SurvivorOfAsync(request.RegistrationId, cancellationToken);
        var row = await db.Cases.FirstOrDefaultAsync(c => c.RegistrationId == registrationId && !c.Closed, cancellationToken);
        ReturnCase returnCase;
        if (row is null)
        {
            returnCase = NewCase(registrationId);
            returnCase.LinkKeys.Add(request.LinkKeys);
            row = new ReturnCaseRow { ReturnCaseId = returnCase.ReturnCaseId, RegistrationId = registrationId, CreatedAt = clock.GetUtcNow().UtcDateTime };
            db.Cases.Add(row);
        }
        else
        {
            returnCase = ReturnCase.Parser.ParseFrom(row.Data);
            if (returnCase.D9 is { State: D9State.DepartureSuspended })
            {
                // One suspension at a time: the open one already holds the departure.
                Remember(partnerId, request.ClientRequestId, row.ReturnCaseId);
                await db.SaveChangesAsync(cancellationToken);
                return new OpenD9SignalResponse { ReturnCase = returnCase };
            }
            if (returnCase.Departure is not null)
            {
                throw new NotNow($"Return case '{row.ReturnCaseId}' records a departure already; a D9 suspension holds a departure that has not happened.");
            }
        }
        returnCase.D9 = new D9Signal
        {
            D9Id = $"d9-{Guid.CreateVersion7():N}",
            State = D9State.DepartureSuspended,
            OpenedOn = openedOn!.Value.ToDate(),
            SignalId = request.SignalId,
        };
        Remember(partnerId, request.ClientRequestId, row.ReturnCaseId);
        await CommitAsync(row, returnCase, new DepartureSuspended
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Now(),
            ReturnCaseId = returnCase.ReturnCaseId,
            D9Id = returnCase.D9.D9Id,
            RegistrationId = returnCase.RegistrationId,
        }, cancellationToken);
        return new OpenD9SignalResponse { ReturnCase = returnCase };
    }

    /// <summary>
    /// Lifts a D9 suspension, only once the IND's residence decision is recorded in the registry (as its
    /// events told this service). Source: seeds/001…txt L6278–6280: the departure is suspended "tot een
    /// beslissing is genomen over een eventuele verblijfsvergunning".
    /// </summary>
    public async Task<ReturnCase> LiftD9Async(LiftD9SuspensionRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string Field, string Description)>();
        RequireCaseId(request.ReturnCaseId, problems);
        if (!Enum.IsDefined(request.LiftReason))
        {
            problems.Add(("lift_reason", "is not a known reason."));
        }
        var liftedOn = Day(request.LiftedOn, "lifted_on", Today(), problems);
        InvalidRequest.ThrowIfAny(problems);
        // The registry's decision lifts the suspension of a closed case too (OnResidenceDecisionAsync);
        // DT&V recording it by hand may do the same.
        var (row, returnCase) = await LoadForChangeAsync(request.ReturnCaseId, request.ExpectedVersion, static _ => true, cancellationToken);
        if (returnCase.D9 is not { State: D9State.DepartureSuspended })
        {
            throw new NotNow($"Return case '{request.ReturnCaseId}' has no suspended departure to lift.");
        }
        var outcome = await registry.ResidenceOfAsync(returnCase.RegistrationId, cancellationToken);
        if (outcome == ResidenceOutcome.Undecided)
        {
            throw new NotNow("Departure stays suspended until the IND's residence decision is recorded in the victim registry (D9); none is recorded yet.");
        }
        var reason = RegistryKnowledge.LiftReasonOf(outcome);
        if (request.LiftReason != D9LiftReason.Unspecified && request.LiftReason != reason)
        {
            throw new InvalidRequest([("lift_reason", $"must agree with the residence decision recorded in the registry ({reason}), or be left out.")]);
        }
        Lift(returnCase, reason, liftedOn!.Value);
        Save(row, returnCase);
        await db.SaveChangesAsync(cancellationToken);
        return returnCase;
    }

    /// <summary>
    /// The registry recorded a residence decision: every D9 suspension on the person's open cases is lifted,
    /// the same day. Called inside the consumer's transaction; the consumer saves.
    /// </summary>
    public async Task<int> OnResidenceDecisionAsync(string registrationId, ResidenceOutcome outcome, CancellationToken cancellationToken)
    {
        if (outcome == ResidenceOutcome.Undecided)
        {
            return 0;
        }
        // The decision may have been sent under a registration merged since (registry events come on other
        // queues than the merge): the person's cases are on the survivor now. It is a decision about the same person.
        var survivorId = await registry.SurvivorOfAsync(registrationId, cancellationToken);
        var rows = await db.Cases.Where(c => c.RegistrationId == survivorId && c.DepartureSuspended).ToListAsync(cancellationToken);
        foreach (var row in rows)
        {
            var returnCase = ReturnCase.Parser.ParseFrom(row.Data);
            Lift(returnCase, RegistryKnowledge.LiftReasonOf(outcome), Today());
            Save(row, returnCase);
        }
        return rows.Count;
    }

    /// <summary>
    /// The registry merged registrations of one person: every case on a merged registration follows the survivor,
    /// and a D9 suspension on it is lifted when the survivor's residence decision is known already (its news may
    /// have come before the merge's). Called inside the consumer's transaction; the consumer saves.
    /// </summary>
    public async Task<int> OnMergedAsync(string survivorId, IReadOnlyCollection<string> mergedIds, CancellationToken cancellationToken)
    {
        var rows = await db.Cases.Where(c => mergedIds.Contains(c.RegistrationId) && c.RegistrationId != survivorId).ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return 0;
        }
        var outcome = await registry.ResidenceOfAsync(survivorId, cancellationToken);
        var moved = new List<(ReturnCaseRow Row, ReturnCase Case)>();
        foreach (var row in rows)
        {
            var returnCase = ReturnCase.Parser.ParseFrom(row.Data);
            returnCase.RegistrationId = survivorId;
            row.RegistrationId = survivorId;
            if (outcome != ResidenceOutcome.Undecided && returnCase.D9 is { State: D9State.DepartureSuspended })
            {
                Lift(returnCase, RegistryKnowledge.LiftReasonOf(outcome), Today());
            }
            moved.Add((row, returnCase));
        }
        await KeepOneOpenCaseAsync(survivorId, moved, cancellationToken);
        foreach (var (row, returnCase) in moved)
        {
            Save(row, returnCase);
        }
        return rows.Count;
    }

    /// <summary>
    /// One person has one open case (returns-0003). When the survivor and a merged registration both had one, the
    /// survivor's (else the oldest) stays open and the others leave the return track; a D9 suspension on any of them
    /// moves to the one kept, so a departure stays suspended whichever case DT&amp;V or IOM uses next. The chain hears
    /// of both: the kept case tells DepartureSuspended when it newly carries the D9 (its later DepartureResumed
    /// then has a suspension to end), and each closed case tells that it left the return track.
    /// </summary>
    private async Task KeepOneOpenCaseAsync(string survivorId, List<(ReturnCaseRow Row, ReturnCase Case)> moved, CancellationToken cancellationToken)
    {
        var open = moved.Where(m => !m.Case.LeftReturnTrack).ToList();
        var survivors = open.Count == 0 ? null : await db.Cases.FirstOrDefaultAsync(c => c.RegistrationId == survivorId && !c.Closed, cancellationToken);
        if (survivors is not null)
        {
            open.Insert(0, (survivors, ReturnCase.Parser.ParseFrom(survivors.Data)));
        }
        if (open.Count < 2)
        {
            return;
        }
        if (survivors is not null)
        {
            // It may take over a suspension: saved with the moved cases.
            moved.Add(open[0]);
        }
        var kept = survivors is not null ? open[0] : open.MinBy(o => o.Row.CreatedAt);
        foreach (var other in open.Where(o => o.Row != kept.Row))
        {
            if (other.Case.D9 is { State: D9State.DepartureSuspended } && kept.Case.D9 is not { State: D9State.DepartureSuspended })
            {
                // Moved, not copied: were it left suspended here too, the residence decision would lift it twice and the
                // chain would hear DepartureResumed twice for one D9. The closed case tells nothing of its own about it.
                kept.Case.D9 = other.Case.D9;
                other.Case.D9 = null;
                outbox.Add(new DepartureSuspended
                {
                    EventId = Guid.CreateVersion7().ToString(),
                    OccurredAt = Now(),
                    ReturnCaseId = kept.Case.ReturnCaseId,
                    D9Id = kept.Case.D9.D9Id,
                    RegistrationId = survivorId,
                });
            }
            // A second suspension, when the kept case holds one already, stays where it was: it was told as suspended
            // there, and the residence decision that lifts the kept one lifts it too (both are on the survivor now),
            // each D9 resumed once.
            other.Case.LeftReturnTrack = true;
            // What RecordReturnOutcome tells when a case leaves the track, without an outcome: none was reached, the
            // person's return goes on in the kept case. Nothing of the return itself, so no consent is needed.
            outbox.Add(new ReturnOutcomeRecorded
            {
                EventId = Guid.CreateVersion7().ToString(),
                OccurredAt = Now(),
                ReturnCaseId = other.Case.ReturnCaseId,
                RegistrationId = survivorId,
                Outcome = ReturnOutcome.Unspecified,
                ContinuedInReturnCaseId = kept.Case.ReturnCaseId,
            });
        }
    }

    /// <summary>
    /// IOM's voluntary return plan: the request, the intake, the planned departure (target: within 30 days
    /// of the request), in-kind support within the cap for the person's nationality, and the re-trafficking
    /// risk before departure. Refused while DT&amp;V holds the departure under D9.
    /// </summary>
    public Task<PlanVoluntaryReturnResponse> PlanAsync(string partnerId, PlanVoluntaryReturnRequest request, CancellationToken cancellationToken) =>
        FirstWriterWinsAsync(() => PlanOnceAsync(partnerId, request, cancellationToken));

    private async Task<PlanVoluntaryReturnResponse> PlanOnceAsync(string partnerId, PlanVoluntaryReturnRequest request, CancellationToken cancellationToken)
    {
        var today = Today();
        var problems = new List<(string Field, string Description)>();
        RequireRequestId(request.ClientRequestId, problems);
        if (string.IsNullOrWhiteSpace(request.ReturnCaseId) == string.IsNullOrWhiteSpace(request.RegistrationId))
        {
            problems.Add(("return_case_id", "name either an existing return case or, in registration_id, the registration to open one for; not both."));
        }
        var requestedOn = Day(request.RequestedOn, "requested_on", null, problems);
        var intakeOn = request.IntakeOn is null ? null : Day(request.IntakeOn, "intake_on", null, problems);
        if (intakeOn is { } intake && requestedOn is { } asked && intake < asked)
        {
            problems.Add(("intake_on", "cannot be before requested_on."));
        }
        if (requestedOn > today || intakeOn > today)
        {
            problems.Add((requestedOn > today ? "requested_on" : "intake_on", "cannot be in the future."));
        }
        DateOnly? planned = null;
        if (request.PlannedDepartureOn is not null)
        {
            planned = Day(request.PlannedDepartureOn, "planned_departure_on", null, problems);
            if (planned < requestedOn)
            {
                problems.Add(("planned_departure_on", "cannot be before requested_on."));
            }
        }
        if (!ReturnRules.IsCountryCode(request.DestinationCountryCode))
        {
            problems.Add(("destination_country_code", "must be an ISO 3166-1 alpha-2 code in capitals, e.g. \"NG\"."));
        }
        if (!ReturnRules.IsCountryCode(request.NationalityCountryCode))
        {
            problems.Add(("nationality_country_code", "must be an ISO 3166-1 alpha-2 code in capitals: it decides the in-kind support cap (EUR 500 for EU nationals, EUR 1,500 for others)."));
        }
        SupportProblems(request, problems);
        for (var i = 0; i < request.RiskFactors.Count; i++)
        {
            if (request.RiskFactors[i] == RetraffickingRiskFactor.Unspecified || !Enum.IsDefined(request.RiskFactors[i]))
            {
                problems.Add(($"risk_factors[{i}]", "is not a known re-trafficking risk factor."));
            }
        }
        InvalidRequest.ThrowIfAny(problems);
        if (await EarlierAsync(partnerId, request.ClientRequestId, cancellationToken) is { } earlier)
        {
            return new PlanVoluntaryReturnResponse { ReturnCase = earlier, Duplicate = true };
        }
        ReturnCaseRow row;
        ReturnCase returnCase;
        var registrationId = request.ReturnCaseId.Length > 0 ? "" : await registry.SurvivorOfAsync(request.RegistrationId, cancellationToken);
        if (request.ReturnCaseId.Length > 0)
        {
            (row, returnCase) = await LoadForChangeAsync(request.ReturnCaseId, 0, cancellationToken);
        }
        else if (await db.Cases.FirstOrDefaultAsync(c => c.RegistrationId == registrationId && !c.Closed, cancellationToken) is { } open)
        {
            (row, returnCase) = (open, ReturnCase.Parser.ParseFrom(open.Data));
        }
        else
        {
            returnCase = NewCase(registrationId);
            row = new ReturnCaseRow { ReturnCaseId = returnCase.ReturnCaseId, RegistrationId = registrationId, CreatedAt = clock.GetUtcNow().UtcDateTime };
            db.Cases.Add(row);
        }
        RefuseWhileSuspended(returnCase, "A voluntary return cannot be planned");
        if (returnCase.Departure is not null)
        {
            throw new NotNow($"Return case '{returnCase.ReturnCaseId}' records a departure already; record monitoring or the outcome instead.");
        }
        var nationality = request.NationalityCountryCode;
        returnCase.Plan = new VoluntaryReturnPlan
        {
            PlanId = returnCase.Plan?.PlanId is { Length: > 0 } id ? id : $"plan-{Guid.CreateVersion7():N}",
            State = planned is null ? ReturnPlanState.Requested : ReturnPlanState.Planned,
            RequestedOn = requestedOn!.Value.ToDate(),
            TargetDepartureBy = requestedOn.Value.AddDays(ReturnRules.TargetDays).ToDate(),
            PlannedDepartureOn = planned?.ToDate(),
            DestinationCountryCode = request.DestinationCountryCode,
            Support = { request.Support },
            SupportCap = ReturnRules.SupportCapFor(nationality),
            IntakeOn = intakeOn?.ToDate(),
            NationalityCountryCode = nationality,
        };
        returnCase.RiskFactors.Clear();
        returnCase.RiskFactors.Add(request.RiskFactors.Distinct());
        returnCase.RetraffickingAssessment = retrafficking.Assess(returnCase.RiskFactors);
        row.TargetFlagged = false;
        Remember(partnerId, request.ClientRequestId, row.ReturnCaseId);
        await CommitAsync(row, returnCase, new ReturnPlanned
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Now(),
            ReturnCaseId = returnCase.ReturnCaseId,
            PlanId = returnCase.Plan.PlanId,
            RegistrationId = returnCase.RegistrationId,
            TargetDepartureBy = returnCase.Plan.TargetDepartureBy,
        }, cancellationToken);
        return new PlanVoluntaryReturnResponse { ReturnCase = returnCase };
    }

    /// <summary>The person left; monitoring runs for 6 months from the day of departure.</summary>
    public async Task<ReturnCase> RecordDepartureAsync(RecordDepartureRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string Field, string Description)>();
        RequireCaseId(request.ReturnCaseId, problems);
        DateOnly? departedOn = null;
        if (request.Departure is not { } departure)
        {
            problems.Add(("departure", "is required."));
        }
        else
        {
            if (departure.Kind == DepartureKind.Unspecified || !Enum.IsDefined(departure.Kind))
            {
                problems.Add(("departure.kind", "must be IOM_VOLUNTARY, FORCED or INDEPENDENT."));
            }
            departedOn = Day(departure.DepartedOn, "departure.departed_on", null, problems);
            if (departedOn > Today())
            {
                problems.Add(("departure.departed_on", "cannot be in the future."));
            }
            if (!ReturnRules.IsCountryCode(departure.DestinationCountryCode))
            {
                problems.Add(("departure.destination_country_code", "must be an ISO 3166-1 alpha-2 code in capitals."));
            }
        }
        InvalidRequest.ThrowIfAny(problems);
        var (row, returnCase) = await LoadForChangeAsync(request.ReturnCaseId, request.ExpectedVersion, cancellationToken);
        RefuseWhileSuspended(returnCase, "A departure cannot be recorded");
        if (returnCase.Departure is not null)
        {
            throw new NotNow($"Return case '{request.ReturnCaseId}' records a departure already.");
        }
        returnCase.Departure = request.Departure!.Clone();
        if (returnCase.Plan is { } plan)
        {
            plan.State = ReturnPlanState.Departed;
        }
        var until = departedOn!.Value.AddMonths(ReturnRules.MonitoringMonths);
        returnCase.MonitoringUntil = until.ToDate();
        var due = departedOn.Value.AddDays(options.Value.CheckInDays);
        returnCase.NextCheckInDue = due <= until ? due.ToDate() : null;
        row.CheckInFlagged = false;
        return await CommitAsync(row, returnCase, new Departed
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Now(),
            ReturnCaseId = returnCase.ReturnCaseId,
            RegistrationId = returnCase.RegistrationId,
            Kind = returnCase.Departure.Kind,
            DepartedOn = returnCase.Departure.DepartedOn,
            MonitoringUntil = returnCase.MonitoringUntil,
        }, cancellationToken);
    }

    /// <summary>A monitoring contact, within the 6 months after departure; the next check-in falls due a period later.</summary>
    public async Task<ReturnCase> RecordMonitoringAsync(RecordMonitoringRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string Field, string Description)>();
        RequireCaseId(request.ReturnCaseId, problems);
        DateOnly? contactOn = null;
        if (request.Contact is not { } contact)
        {
            problems.Add(("contact", "is required."));
        }
        else
        {
            contactOn = Day(contact.ContactOn, "contact.contact_on", null, problems);
            if (contactOn > Today())
            {
                problems.Add(("contact.contact_on", "cannot be in the future."));
            }
            if (contact.Progress == ReintegrationProgress.Unspecified || !Enum.IsDefined(contact.Progress))
            {
                problems.Add(("contact.progress", "must say how reintegration is going."));
            }
            if (contact.RiskFactors.Any(f => f == RetraffickingRiskFactor.Unspecified || !Enum.IsDefined(f)))
            {
                problems.Add(("contact.risk_factors", "names an unknown re-trafficking risk factor."));
            }
        }
        InvalidRequest.ThrowIfAny(problems);
        // Monitoring goes on after the outcome that is the departure itself, for the rest of the 6 months.
        var (row, returnCase) = await LoadForChangeAsync(request.ReturnCaseId, request.ExpectedVersion, MonitoringRuns, cancellationToken);
        if (returnCase.Departure is null)
        {
            throw new NotNow($"Return case '{request.ReturnCaseId}' records no departure; monitoring follows a departure.");
        }
        var until = returnCase.MonitoringUntil.ToDateOnly()!.Value;
        if (contactOn < returnCase.Departure.DepartedOn.ToDateOnly() || contactOn > until)
        {
            throw new InvalidRequest([("contact.contact_on", $"must fall in the monitoring period, from the departure to {until:yyyy-MM-dd} (6 months).")]);
        }
        returnCase.Monitoring.Add(request.Contact!.Clone());
        foreach (var factor in request.Contact!.RiskFactors.Where(f => !returnCase.RiskFactors.Contains(f)))
        {
            returnCase.RiskFactors.Add(factor);
        }
        var latest = returnCase.Monitoring.Select(m => m.ContactOn.ToDateOnly()!.Value).Max();
        var due = latest.AddDays(options.Value.CheckInDays);
        returnCase.NextCheckInDue = due <= until ? due.ToDate() : null;
        returnCase.CheckInOverdue = false;
        row.CheckInFlagged = false;
        return await CommitAsync(row, returnCase, new MonitoringCheckIn
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Now(),
            ReturnCaseId = returnCase.ReturnCaseId,
            ContactOn = request.Contact.ContactOn,
            Progress = request.Contact.Progress,
            NextCheckInDue = returnCase.NextCheckInDue,
        }, cancellationToken);
    }

    /// <summary>
    /// The final outcome: the case leaves the return track. The chain is told the outcome only under the
    /// victim's written consent; without it, only that the case left the return track.
    /// </summary>
    public async Task<ReturnCase> RecordOutcomeAsync(RecordReturnOutcomeRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string Field, string Description)>();
        RequireCaseId(request.ReturnCaseId, problems);
        if (request.Outcome == ReturnOutcome.Unspecified || !Enum.IsDefined(request.Outcome))
        {
            problems.Add(("outcome", "must be RESIDENCE_PERMIT, LEFT_UNKNOWN_DESTINATION, FORCED_DEPARTURE or IOM_RETURN."));
        }
        var on = Day(request.OutcomeOn, "outcome_on", Today(), problems);
        InvalidRequest.ThrowIfAny(problems);
        // A closed case is one with its outcome: the refusal below says so in this method's terms.
        var (row, returnCase) = await LoadForChangeAsync(request.ReturnCaseId, request.ExpectedVersion, static _ => true, cancellationToken);
        if (returnCase.Outcome != ReturnOutcome.Unspecified)
        {
            throw new NotNow($"Return case '{request.ReturnCaseId}' has its outcome already; an outcome is recorded once.");
        }
        if (returnCase.LeftReturnTrack)
        {
            // Closed by a registry merge (KeepOneOpenCaseAsync): the outcome belongs on the person's open case.
            throw new NotNow($"Return case '{request.ReturnCaseId}' left the return track when the registry merged the person's registrations; record the outcome on the person's open case.");
        }
        if (request.Outcome is ReturnOutcome.IomReturn or ReturnOutcome.ForcedDeparture && returnCase.Departure is null)
        {
            throw new NotNow($"Return case '{request.ReturnCaseId}' records no departure; record it before a departure outcome.");
        }
        returnCase.Outcome = request.Outcome;
        returnCase.OutcomeOn = on!.Value.ToDate();
        returnCase.LeftReturnTrack = true;
        if (returnCase.Plan is { State: ReturnPlanState.Requested or ReturnPlanState.Planned } plan)
        {
            plan.State = ReturnPlanState.Cancelled;
        }
        if (!MonitoringRuns(returnCase))
        {
            returnCase.NextCheckInDue = null;
            returnCase.CheckInOverdue = false;
        }
        var told = await registry.ReturnMayBeToldAsync(returnCase.RegistrationId, null, Today(), cancellationToken);
        return await CommitAsync(row, returnCase, new ReturnOutcomeRecorded
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Now(),
            ReturnCaseId = returnCase.ReturnCaseId,
            RegistrationId = returnCase.RegistrationId,
            Outcome = told ? returnCase.Outcome : ReturnOutcome.Unspecified,
            OutcomeWithheld = !told,
        }, cancellationToken);
    }

    /// <summary>
    /// A return case as the caller may see it. DT&amp;V and IOM (the return purpose) see the case; CoMensha
    /// sees the return only while the victim's written consent lets IOM tell it, and otherwise only whether
    /// the case left the return track — checked at every read, so a withdrawn consent stops it at once.
    /// </summary>
    public async Task<ReturnCase> GetAsync(string partnerId, string returnCaseId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(returnCaseId))
        {
            throw new InvalidRequest([("return_case_id", "name the return case to read.")]);
        }
        var row = await db.Cases.AsNoTracking().FirstOrDefaultAsync(c => c.ReturnCaseId == returnCaseId, cancellationToken)
            ?? throw NotFoundCase(returnCaseId);
        var returnCase = ReturnCase.Parser.ParseFrom(row.Data);
        return PartnerTypes.Of(partnerId) == PartnerType.Comensha ? await ForCoMenshaAsync(returnCase, cancellationToken) : returnCase;
    }

    /// <summary>What CoMensha sees of a case: all of the return under consent, else that it left the track.</summary>
    public async Task<ReturnCase> ForCoMenshaAsync(ReturnCase returnCase, CancellationToken cancellationToken)
    {
        if (await registry.ReturnMayBeToldAsync(returnCase.RegistrationId, null, Today(), cancellationToken))
        {
            return returnCase;
        }
        return new ReturnCase
        {
            ReturnCaseId = returnCase.ReturnCaseId,
            RegistrationId = returnCase.RegistrationId,
            LeftReturnTrack = returnCase.LeftReturnTrack,
        };
    }

    /// <summary>
    /// IOM tells CoMensha about the return under a named consent: refused unless that consent is written,
    /// from the victim, in force, for IOM to CoMensha on the return topic, and about this person.
    /// </summary>
    public async Task<ShareReturnWithCoMenshaResponse> ShareWithCoMenshaAsync(ShareReturnWithCoMenshaRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string Field, string Description)>();
        RequireCaseId(request.ReturnCaseId, problems);
        if (string.IsNullOrWhiteSpace(request.ConsentId))
        {
            problems.Add(("consent_id", "name the victim's written consent, as recorded in the victim registry."));
        }
        InvalidRequest.ThrowIfAny(problems);
        // IOM tells CoMensha that the victim returned once that happened, so after the outcome too.
        var (row, returnCase) = await LoadForChangeAsync(request.ReturnCaseId, 0, static _ => true, cancellationToken);
        // One answer for a consent that does not exist, is about someone else, or does not allow it:
        // anything more would tell IOM about a consent it may not read.
        if (!await registry.ReturnMayBeToldAsync(returnCase.RegistrationId, request.ConsentId, Today(), cancellationToken))
        {
            throw new NotNow($"Consent '{request.ConsentId}' does not let IOM tell CoMensha about this return: it must be the victim's written consent, in force, on the return topic, recorded in the victim registry for this person.");
        }
        var now = Now();
        returnCase.SharingConsentId = request.ConsentId;
        returnCase.SharedWithComenshaAt = now;
        Save(row, returnCase);
        await db.SaveChangesAsync(cancellationToken);
        return new ShareReturnWithCoMenshaResponse { ReturnCase = returnCase, SharedAt = now };
    }

    /// <summary>A case to change; one that left the return track takes no change.</summary>
    internal Task<(ReturnCaseRow Row, ReturnCase Case)> LoadForChangeAsync(string returnCaseId, long expectedVersion, CancellationToken cancellationToken) =>
        LoadForChangeAsync(returnCaseId, expectedVersion, static _ => false, cancellationToken);

    /// <param name="mayChangeClosed">Whether a case that left the return track may still take this change.</param>
    internal async Task<(ReturnCaseRow Row, ReturnCase Case)> LoadForChangeAsync(string returnCaseId, long expectedVersion, Func<ReturnCase, bool> mayChangeClosed, CancellationToken cancellationToken)
    {
        var row = await db.Cases.FirstOrDefaultAsync(c => c.ReturnCaseId == returnCaseId, cancellationToken)
            ?? throw NotFoundCase(returnCaseId);
        var returnCase = ReturnCase.Parser.ParseFrom(row.Data);
        if (returnCase.LeftReturnTrack && !mayChangeClosed(returnCase))
        {
            var why = returnCase.Outcome == ReturnOutcome.Unspecified
                ? "when the registry merged the person's registrations; the person's open case goes on"
                : $"(outcome {returnCase.Outcome}, recorded {returnCase.OutcomeOn.ToText()})";
            throw new NotNow($"Return case '{returnCaseId}' left the return track {why}; it takes no further changes.");
        }
        if (expectedVersion != 0 && expectedVersion != row.Version)
        {
            throw new Outdated($"The return case changed since you read version {expectedVersion}; read it again.");
        }
        return (row, returnCase);
    }

    /// <summary>
    /// Runs a request that inserts its idempotency key and may open a case. The key and the one open case
    /// per registration are unique in the database, so when another request got there first (a retry of
    /// this one, or DT&amp;V and IOM opening a case for the same person at once) this insert is refused
    /// whole; the request then runs once more and finds the earlier answer or the case now open.
    /// </summary>
    private Task<T> FirstWriterWinsAsync<T>(Func<Task<T>> run) => db.FirstWriterWinsAsync(run);

    /// <summary>Saves a change together with the event that tells the chain of it (outbox): both or neither.</summary>
    private async Task<ReturnCase> CommitAsync(ReturnCaseRow row, ReturnCase returnCase, IMessage news, CancellationToken cancellationToken)
    {
        Save(row, returnCase);
        outbox.Add(news);
        await db.SaveChangesAsync(cancellationToken);
        return returnCase;
    }

    /// <summary>Stages a change: the next version, with the query columns following the record.</summary>
    internal static void Save(ReturnCaseRow row, ReturnCase returnCase)
    {
        returnCase.Version = row.Version + 1;
        row.Version = returnCase.Version;
        row.DepartureSuspended = returnCase.D9 is { State: D9State.DepartureSuspended };
        row.Closed = returnCase.LeftReturnTrack;
        row.TargetDepartureBy = returnCase is { Departure: null, LeftReturnTrack: false, Plan: { } plan } ? plan.TargetDepartureBy.ToDateOnly() : null;
        row.NextCheckInDue = MonitoringRuns(returnCase) ? returnCase.NextCheckInDue.ToDateOnly() : null;
        row.Data = returnCase.ToByteArray();
    }

    /// <summary>
    /// Monitoring follows a departure for 6 months (until MonitoringUntil). An outcome that is the departure
    /// itself (IOM_RETURN, FORCED_DEPARTURE) is recorded at the start of those months, so check-ins stay
    /// due; any other outcome means there is no one to check in with.
    /// </summary>
    internal static bool MonitoringRuns(ReturnCase returnCase) =>
        returnCase.Departure is not null && returnCase.Outcome is ReturnOutcome.Unspecified or ReturnOutcome.IomReturn or ReturnOutcome.ForcedDeparture;

    private void Lift(ReturnCase returnCase, D9LiftReason reason, DateOnly on)
    {
        returnCase.D9.State = D9State.Lifted;
        returnCase.D9.LiftReason = reason;
        returnCase.D9.LiftedOn = on.ToDate();
        outbox.Add(new DepartureResumed
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Now(),
            ReturnCaseId = returnCase.ReturnCaseId,
            D9Id = returnCase.D9.D9Id,
            RegistrationId = returnCase.RegistrationId,
            LiftReason = reason,
        });
    }

    /// <summary>
    /// Source: seeds/001…txt L6278–6280: under D9 "het vertrekproces … wordt opgeschort, tot een
    /// beslissing is genomen over een eventuele verblijfsvergunning". The reason names the case the caller
    /// sent and the rule, nothing of the registry's record.
    /// </summary>
    private static void RefuseWhileSuspended(ReturnCase returnCase, string what)
    {
        if (returnCase.D9 is { State: D9State.DepartureSuspended } d9)
        {
            throw new NotNow($"{what}: departure is suspended for return case '{returnCase.ReturnCaseId}' since {d9.OpenedOn.ToText()} (D9: DT&V found signs of trafficking). It resumes once the IND's residence decision is recorded in the victim registry.");
        }
    }

    private ReturnCase NewCase(string registrationId) => new()
    {
        ReturnCaseId = $"rc-{Guid.CreateVersion7():N}",
        RegistrationId = registrationId,
    };

    private void Remember(string partnerId, string clientRequestId, string returnCaseId) =>
        db.Requests.Add(new ReturnRequestRow { PartnerId = partnerId, ClientRequestId = clientRequestId, ReturnCaseId = returnCaseId });

    private async Task<ReturnCase?> EarlierAsync(string partnerId, string clientRequestId, CancellationToken cancellationToken)
    {
        var earlier = await db.Requests.AsNoTracking().FirstOrDefaultAsync(r => r.PartnerId == partnerId && r.ClientRequestId == clientRequestId, cancellationToken);
        if (earlier is null)
        {
            return null;
        }
        var row = await db.Cases.AsNoTracking().FirstAsync(c => c.ReturnCaseId == earlier.ReturnCaseId, cancellationToken);
        return ReturnCase.Parser.ParseFrom(row.Data);
    }

    /// <summary>
    /// In-kind support, never cash, within the cap. Source: seeds/001…txt L9496–9499: "maximaal 500 euro"
    /// for EU nationals, "doorgaans hoger (1500 euro)" for others.
    /// </summary>
    private static void SupportProblems(PlanVoluntaryReturnRequest request, List<(string Field, string Description)> problems)
    {
        long total = 0;
        for (var i = 0; i < request.Support.Count; i++)
        {
            var support = request.Support[i];
            if (support.Kind == SupportKind.Unspecified || !Enum.IsDefined(support.Kind))
            {
                problems.Add(($"support[{i}].kind", "must say what the support is (business start, education, housing, medical, other)."));
            }
            if (support.Amount is not { CurrencyCode: "EUR", AmountMinorUnits: > 0 } amount)
            {
                problems.Add(($"support[{i}].amount", "must be a positive amount in EUR (cents)."));
                continue;
            }
            total += Math.Min(amount.AmountMinorUnits, long.MaxValue / 1000);
        }
        if (ReturnRules.IsCountryCode(request.NationalityCountryCode))
        {
            var cap = ReturnRules.SupportCapFor(request.NationalityCountryCode).AmountMinorUnits;
            if (total > cap)
            {
                var who = cap == ReturnRules.EuSupportCapCents ? "an EU national" : "a national of a country outside the EU";
                problems.Add(("support", $"totals EUR {total / 100m:0.00}; in-kind support for {who} is at most EUR {cap / 100m:0.00}."));
            }
        }
    }

    private static void RequireRequestId(string clientRequestId, List<(string Field, string Description)> problems)
    {
        if (string.IsNullOrWhiteSpace(clientRequestId) || clientRequestId.Length > 128)
        {
            problems.Add(("client_request_id", "is required (up to 128 characters) so a retry records nothing twice."));
        }
    }

    private static void RequireCaseId(string returnCaseId, List<(string Field, string Description)> problems)
    {
        if (string.IsNullOrWhiteSpace(returnCaseId))
        {
            problems.Add(("return_case_id", "is required."));
        }
    }

    /// <summary>A whole calendar day, not in the future; <paramref name="fallback"/> when left out (null: required).</summary>
    private static DateOnly? Day(Date? date, string field, DateOnly? fallback, List<(string Field, string Description)> problems)
    {
        if (date is null)
        {
            if (fallback is null)
            {
                problems.Add((field, "is required."));
            }
            return fallback;
        }
        var day = date.ToDateOnly();
        if (day is null)
        {
            problems.Add((field, "must be a whole calendar day."));
        }
        else if (fallback is { } today && day > today)
        {
            problems.Add((field, "cannot be in the future."));
        }
        return day;
    }

    private static NotFound NotFoundCase(string returnCaseId) => new($"There is no return case '{returnCaseId}'.");
}
