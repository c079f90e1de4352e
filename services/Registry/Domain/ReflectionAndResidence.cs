using Chain.Common.V1;
using Chain.Registry.V1;
using Google.Protobuf;
using FieldMask = Google.Protobuf.WellKnownTypes.FieldMask;
using Ketenmesh.Contracts;
using Ketenmesh.Registry.Persistence;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// The reflection period (bedenktijd), the aangifte status and the residence position: the legal path
/// a registered person walks. The reflection period is a right of up to three months to decide on
/// aangifte; in immigration detention only with the consent of both the OM and the police. Aangifte
/// ends it and, for someone without free movement, starts the B8/3 application automatically.
/// </summary>
public sealed class ReflectionAndResidence(RegistryDbContext db, RegistrationStore store)
{
    public const int MaxMonths = 3;

    /// <summary>
    /// Starts the period for a foreign national, as the police or KMar (<see cref="LegalPathRules.StartsReflectionPeriod"/>);
    /// in immigration detention only once the OM and the police have each recorded their consent.
    /// </summary>
    /// <remarks>Source: seeds/001…txt L6395–6396: "verleent de Immigratie en Naturalisatiedienst (IND) de bedenktijd uitsluitend als het OM en de politie hiermee akkoord gaan".</remarks>
    public async Task<Registration> StartReflectionPeriodAsync(string partnerId, StartReflectionPeriodRequest request, CancellationToken cancellationToken)
    {
        var today = store.Today();
        var problems = new List<(string Field, string Description)>();
        RequireId(request.RegistrationId, problems);
        var start = Day(request.StartOn, "start_on", today, problems, required: true);
        var end = Day(request.EndOn, "end_on", null, problems, required: false);
        if (start is { } first)
        {
            end ??= first.AddMonths(MaxMonths);
            if (end < first || end > first.AddMonths(MaxMonths))
            {
                problems.Add(("end_on", $"must be from start_on up to {MaxMonths} months after it ({first.AddMonths(MaxMonths):yyyy-MM-dd}), or left out for the full {MaxMonths} months."));
            }
        }
        InvalidRequest.ThrowIfAny(problems);
        if (!LegalPathRules.StartsReflectionPeriod(PartnerTypes.Of(partnerId)))
        {
            throw new NotAllowed("The police or the marechaussee point a person out to the reflection period and start it.");
        }
        var (row, registration) = await store.LoadForChangeAsync(request.RegistrationId, request.ExpectedVersion, cancellationToken);
        if (registration.ReflectionPeriod is not null)
        {
            // Not its dates or state: the caller may not be able to read them.
            throw new NotNow("A reflection period was already granted for this registration; it is granted once.");
        }
        if (registration.AangifteStatus == AangifteStatus.Made)
        {
            throw new NotNow("Aangifte has been made; the reflection period is for deciding whether to make it.");
        }
        if (LegalPathRules.IsDutch(registration))
        {
            throw new NotNow("The reflection period is for a person without Dutch nationality; this person is recorded as Dutch.");
        }
        if (request.InImmigrationDetention && LegalPathRules.MissingDetentionConsents(registration).ToList() is { Count: > 0 } missing)
        {
            // prosecution_consent and police_consent in the request are ignored: each consents with its own token.
            throw new NotNow($"In immigration detention the reflection period needs the consent of both the OM and the police, each recorded with RecordLegalStatement (DETENTION_REFLECTION_CONSENT); missing: {string.Join(", ", missing)}.");
        }
        registration.ReflectionPeriod = new ReflectionPeriod
        {
            StartOn = start!.Value.ToDate(),
            EndOn = end!.Value.ToDate(),
            State = ReflectionPeriodState.Running,
            InImmigrationDetention = request.InImmigrationDetention,
        };
        registration.AangifteStatus = AangifteStatus.InReflectionPeriod;
        registration.AangifteStatusOn = start.Value.ToDate();
        row.ReflectionReminded = false;
        store.Save(row, registration);
        await db.SaveChangesAsync(cancellationToken);
        return registration;
    }

    /// <summary>
    /// Records the aangifte status. A MADE aangifte is not overwritten: the B8/3 application stands on it, so
    /// taking it back is a correction with its reason (<see cref="CorrectAangifteStatusAsync"/>).
    /// </summary>
    /// <remarks>Source: seeds/001…txt L6390–6391: "Een mogelijk slachtoffer heeft recht op de B9-vergunning als hij of zij van dit feit aangifte heeft gedaan".</remarks>
    public async Task<Registration> RecordAangifteStatusAsync(RecordAangifteStatusRequest request, CancellationToken cancellationToken)
    {
        var today = store.Today();
        var problems = new List<(string Field, string Description)>();
        RequireId(request.RegistrationId, problems);
        if (request.AangifteStatus == AangifteStatus.Unspecified || !Enum.IsDefined(request.AangifteStatus))
        {
            problems.Add(("aangifte_status", "must be MADE, IN_REFLECTION_PERIOD, INTAKE_HELD, UNKNOWN or DECLINED."));
        }
        var on = Day(request.StatusOn, "status_on", today, problems, required: true);
        InvalidRequest.ThrowIfAny(problems);
        var (row, registration) = await store.LoadForChangeAsync(request.RegistrationId, request.ExpectedVersion, cancellationToken);
        if (registration.AangifteStatus == AangifteStatus.Made)
        {
            if (request.AangifteStatus == AangifteStatus.Made)
            {
                return registration; // made once: the day it was made stays
            }
            // A made aangifte is a fact the B8/3 application stands on; taking it back is a correction, with its reason.
            throw new NotNow("Aangifte has been made and is not overwritten; if it was recorded in error, correct it with CorrectAangifteStatus and a reason.");
        }
        Apply(registration, request.AangifteStatus, on!.Value);
        if (store.Save(row, registration))
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        return registration;
    }

    /// <summary>
    /// The aangifte status and what follows from it: aangifte ends a running period (ENDED_AANGIFTE) and
    /// applies for B8/3; the decision not to make it ends the period as ENDED_DECLINED.
    /// </summary>
    /// <remarks>Source: seeds/001…txt L7245–7248: "nadenken over het doen van aangifte of anderszins meewerken. Als het slachtoffer besluit aangifte te doen … krijgt hij of zij van de … (IND) een tijdelijke verblijfsvergunning".</remarks>
    internal static void Apply(Registration registration, AangifteStatus status, DateOnly on)
    {
        var period = registration.ReflectionPeriod;
        if (status == AangifteStatus.InReflectionPeriod && period?.State != ReflectionPeriodState.Running)
        {
            throw new NotNow("No reflection period is running; start one with StartReflectionPeriod.");
        }
        registration.AangifteStatus = status;
        registration.AangifteStatusOn = on.ToDate();
        if (status is AangifteStatus.Made or AangifteStatus.Declined && period?.State == ReflectionPeriodState.Running)
        {
            period.State = status == AangifteStatus.Made ? ReflectionPeriodState.EndedAangifte : ReflectionPeriodState.EndedDeclined;
            // Not before the period began: a fact dated earlier than the period ends it on its first day.
            var ended = on < period.StartOn.ToDateOnly() ? period.StartOn.ToDateOnly()!.Value : on;
            period.EndedOn = ended.ToDate();
        }
        if (status == AangifteStatus.Made)
        {
            ApplyForTemporaryResidence(registration, on);
        }
    }

    /// <summary>
    /// Corrects a MADE aangifte recorded in error: its own act, kept with its reason in aangifte_corrections.
    /// The B8/3 application that aangifte made, still pending, is withdrawn (a decided one is the IND's to
    /// revisit); the period that aangifte ended runs again while its end date has not passed, else it expired.
    /// </summary>
    /// <remarks>
    /// The sources name no correction procedure: the act with its reason is issue 12's ("A correction is its own
    /// act, with a reason, and it updates the residence application"). Withdrawing the pending B8/3 rests on
    /// seeds/001…txt L7245–7248: the temporary permit follows "Als het slachtoffer besluit aangifte te doen", so an
    /// application whose aangifte was not made has lost its ground; and on L7452–7455: the permit stands or falls
    /// with the criminal case (after a sepot, "het intrekken van de tijdelijke verblijfsvergunning").
    /// </remarks>
    public async Task<Registration> CorrectAangifteStatusAsync(string partnerId, CorrectAangifteStatusRequest request, CancellationToken cancellationToken)
    {
        var today = store.Today();
        var problems = new List<(string Field, string Description)>();
        RequireId(request.RegistrationId, problems);
        if (request.AangifteStatus is AangifteStatus.Unspecified or AangifteStatus.Made || !Enum.IsDefined(request.AangifteStatus))
        {
            problems.Add(("aangifte_status", "must be the status that should have been recorded: IN_REFLECTION_PERIOD, INTAKE_HELD, UNKNOWN or DECLINED."));
        }
        if (request.Reason == AangifteCorrectionReason.Unspecified || !Enum.IsDefined(request.Reason))
        {
            problems.Add(("reason", "must say why: RECORDED_IN_ERROR or WRONG_PERSON."));
        }
        var on = Day(request.StatusOn, "status_on", today, problems, required: true);
        InvalidRequest.ThrowIfAny(problems);
        var (row, registration) = await store.LoadForChangeAsync(request.RegistrationId, request.ExpectedVersion, cancellationToken);
        if (registration.AangifteStatus != AangifteStatus.Made)
        {
            throw new NotNow("Only an aangifte recorded as MADE is corrected; record other statuses with RecordAangifteStatus.");
        }
        registration.AangifteCorrections.Add(new AangifteCorrection
        {
            Previous = registration.AangifteStatus,
            PreviousOn = registration.AangifteStatusOn,
            CorrectedTo = request.AangifteStatus,
            Reason = request.Reason,
            CorrectedBy = PartnerTypes.Of(partnerId),
            CorrectedAt = store.Now(),
        });
        if (registration.ReflectionPeriod is { State: ReflectionPeriodState.EndedAangifte } period)
        {
            // As if the aangifte had never been recorded: the period ran on.
            var running = period.EndOn.ToDateOnly() >= today;
            period.State = running ? ReflectionPeriodState.Running : ReflectionPeriodState.Expired;
            period.EndedOn = running ? null : period.EndOn.Clone();
            row.ReflectionReminded = false;
        }
        if (registration.Residence?.TemporaryResidence is { Ground: TemporaryResidenceGround.Aangifte, Decision: ResidenceDecision.Pending } application)
        {
            application.Decision = ResidenceDecision.Withdrawn;
            application.DecidedOn = on!.Value < application.AppliedOn.ToDateOnly() ? application.AppliedOn.Clone() : on.Value.ToDate();
        }
        registration.AangifteStatus = AangifteStatus.Unspecified;
        Apply(registration, request.AangifteStatus, on!.Value);
        store.Save(row, registration);
        await db.SaveChangesAsync(cancellationToken);
        return registration;
    }

    /// <summary>
    /// A statement on the legal path, recorded by the partner that gives it (<see cref="LegalPathRules.GivenBy"/>):
    /// the caller's partner comes from its verified identity. Recording one already given changes nothing.
    /// </summary>
    public async Task<Registration> RecordLegalStatementAsync(string partnerId, RecordLegalStatementRequest request, CancellationToken cancellationToken)
    {
        var today = store.Today();
        var problems = new List<(string Field, string Description)>();
        RequireId(request.RegistrationId, problems);
        if (request.Kind == LegalStatementKind.Unspecified || !Enum.IsDefined(request.Kind))
        {
            problems.Add(("kind", "must be DETENTION_REFLECTION_CONSENT, SERIOUS_THREAT, MEDICAL_PSYCHOLOGICAL_LIMITS or CONVICTION."));
        }
        var on = Day(request.GivenOn, "given_on", today, problems, required: true);
        InvalidRequest.ThrowIfAny(problems);
        var partner = PartnerTypes.Of(partnerId);
        var givers = LegalPathRules.GivenBy(request.Kind);
        if (!givers.Contains(partner))
        {
            throw new NotAllowed($"A {request.Kind} statement is given by {string.Join(" or ", givers.Order())}, each recording its own.");
        }
        var (row, registration) = await store.LoadForChangeAsync(request.RegistrationId, request.ExpectedVersion, cancellationToken);
        if (registration.LegalStatements.Any(s => s.Kind == request.Kind && s.GivenBy == partner))
        {
            return registration;
        }
        registration.LegalStatements.Add(new LegalStatement { Kind = request.Kind, GivenBy = partner, GivenOn = on!.Value.ToDate(), RecordedAt = store.Now() });
        store.Save(row, registration);
        await db.SaveChangesAsync(cancellationToken);
        return registration;
    }

    public async Task<Registration> RecordResidenceStatusAsync(RecordResidenceStatusRequest request, CancellationToken cancellationToken)
    {
        var today = store.Today();
        var problems = new List<(string Field, string Description)>();
        RequireId(request.RegistrationId, problems);
        if (request.Residence is null)
        {
            problems.Add(("residence", "is required."));
        }
        foreach (var path in request.UpdateMask?.Paths ?? [])
        {
            if (!FieldMask.IsValid(ResidenceStatus.Descriptor, path))
            {
                problems.Add(("update_mask", $"'{path}' is not a field of ResidenceStatus (e.g. legal_stay, temporary_residence.decision)."));
            }
        }
        if (request.Residence is { } residence)
        {
            ResidenceProblems(residence, today, problems);
        }
        InvalidRequest.ThrowIfAny(problems);
        var (row, registration) = await store.LoadForChangeAsync(request.RegistrationId, request.ExpectedVersion, cancellationToken);
        var previous = registration.Residence?.Clone();
        if (request.UpdateMask is not { Paths.Count: > 0 } mask)
        {
            registration.Residence = request.Residence!.Clone();
        }
        else
        {
            var unrecorded = registration.Residence is null;
            registration.Residence ??= new ResidenceStatus();
            mask.Merge(request.Residence, registration.Residence, new FieldMask.MergeOptions { ReplaceMessageFields = true, ReplacePrimitiveFields = true, ReplaceRepeatedFields = true });
            if (unrecorded && registration.Residence.Equals(new ResidenceStatus()))
            {
                registration.Residence = null; // nothing was written: an empty position is no position
            }
        }
        ResidenceRefusals(previous, registration, today);
        // Recording what is already recorded (residence {} under update_mask legal_stay, say) changes nothing.
        if (store.Save(row, registration))
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        return registration;
    }

    /// <summary>
    /// The applications as they now stand must rest on what the law asks: B8/3 without aangifte on its
    /// recorded statement, continued residence on a conviction or three years on the scheme
    /// (<see cref="LegalPathRules"/>). Checked only for an application this write changed.
    /// </summary>
    private static void ResidenceRefusals(ResidenceStatus? previous, Registration registration, DateOnly today)
    {
        if (registration.Residence?.TemporaryResidence is { } temporary && !temporary.Equals(previous?.TemporaryResidence)
            && LegalPathRules.TemporaryResidenceRefusal(registration, temporary) is { } temporaryRefusal)
        {
            throw new NotNow(temporaryRefusal);
        }
        if (registration.Residence?.ContinuedResidence is { } continued && !continued.Equals(previous?.ContinuedResidence)
            && LegalPathRules.ContinuedResidenceRefusal(registration, continued, today) is { } continuedRefusal)
        {
            throw new NotNow(continuedRefusal);
        }
    }

    /// <summary>Aangifte leads to a B8/3 application by itself, for anyone who needs a residence permit (<see cref="LegalPathRules.AangifteAppliesForTemporaryResidence"/>).</summary>
    internal static void ApplyForTemporaryResidence(Registration registration, DateOnly on)
    {
        if (!LegalPathRules.AangifteAppliesForTemporaryResidence(registration))
        {
            return;
        }
        registration.Residence ??= new ResidenceStatus();
        registration.Residence.TemporaryResidence = new TemporaryResidence
        {
            Ground = TemporaryResidenceGround.Aangifte,
            AppliedOn = on.ToDate(),
            Decision = ResidenceDecision.Pending,
        };
    }

    private static void ResidenceProblems(ResidenceStatus residence, DateOnly today, List<(string, string)> problems)
    {
        if (!Enum.IsDefined(residence.LegalStay))
        {
            problems.Add(("residence.legal_stay", $"{(int)residence.LegalStay} is not a known value."));
        }
        if (residence.TemporaryResidence is { } temporary)
        {
            Application("residence.temporary_residence", Enum.IsDefined(temporary.Ground), temporary.Decision, temporary.AppliedOn, temporary.DecidedOn, today, problems);
        }
        if (residence.ContinuedResidence is { } continued)
        {
            Application("residence.continued_residence", Enum.IsDefined(continued.Ground), continued.Decision, continued.AppliedOn, continued.DecidedOn, today, problems);
        }
    }

    private static void Application(string field, bool groundKnown, ResidenceDecision decision, Date? appliedOn, Date? decidedOn, DateOnly today, List<(string, string)> problems)
    {
        if (!groundKnown)
        {
            problems.Add(($"{field}.ground", "is not a known value."));
        }
        if (!Enum.IsDefined(decision))
        {
            problems.Add(($"{field}.decision", $"{(int)decision} is not a known value."));
        }
        var applied = Day(appliedOn, $"{field}.applied_on", today, problems, required: false);
        var decided = Day(decidedOn, $"{field}.decided_on", today, problems, required: false);
        if (decided is not null && decision is ResidenceDecision.Unspecified or ResidenceDecision.Pending)
        {
            problems.Add(($"{field}.decided_on", "belongs with a decision (granted, refused, withdrawn or ended)."));
        }
        if (decided < applied)
        {
            problems.Add(($"{field}.decided_on", "cannot be before applied_on."));
        }
    }

    /// <summary>A whole calendar day, not after <paramref name="latest"/> when given.</summary>
    private static DateOnly? Day(Date? date, string field, DateOnly? latest, List<(string, string)> problems, bool required)
    {
        if (date is null)
        {
            if (required)
            {
                problems.Add((field, "is required (year, month and day)."));
            }
            return null;
        }
        if (date.ToDateOnly() is not { } day || day.Year < 2000)
        {
            problems.Add((field, "must be a whole calendar day (year from 2000, month and day)."));
            return null;
        }
        if (day > latest)
        {
            problems.Add((field, "must not be in the future."));
            return null;
        }
        return day;
    }

    private static void RequireId(string registrationId, List<(string, string)> problems)
    {
        if (string.IsNullOrWhiteSpace(registrationId))
        {
            problems.Add(("registration_id", "is required."));
        }
    }
}
