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

    public async Task<Registration> StartReflectionPeriodAsync(StartReflectionPeriodRequest request, CancellationToken cancellationToken)
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
        if (request.InImmigrationDetention && !(request.ProsecutionConsent && request.PoliceConsent))
        {
            throw new NotNow("In immigration detention the reflection period needs the consent of both the OM (prosecution_consent) and the police (police_consent).");
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

    public async Task<Registration> RecordAangifteStatusAsync(RecordAangifteStatusRequest request, CancellationToken cancellationToken)
    {
        var today = store.Today();
        var problems = new List<(string Field, string Description)>();
        RequireId(request.RegistrationId, problems);
        if (request.AangifteStatus == AangifteStatus.Unspecified || !Enum.IsDefined(request.AangifteStatus))
        {
            problems.Add(("aangifte_status", "must be MADE, IN_REFLECTION_PERIOD, INTAKE_HELD or UNKNOWN."));
        }
        var on = Day(request.StatusOn, "status_on", today, problems, required: true);
        InvalidRequest.ThrowIfAny(problems);
        var (row, registration) = await store.LoadForChangeAsync(request.RegistrationId, request.ExpectedVersion, cancellationToken);
        var period = registration.ReflectionPeriod;
        if (request.AangifteStatus == AangifteStatus.InReflectionPeriod && period?.State != ReflectionPeriodState.Running)
        {
            throw new NotNow("No reflection period is running; start one with StartReflectionPeriod.");
        }
        registration.AangifteStatus = request.AangifteStatus;
        registration.AangifteStatusOn = on!.Value.ToDate();
        if (request.AangifteStatus == AangifteStatus.Made)
        {
            if (period?.State == ReflectionPeriodState.Running)
            {
                period.State = ReflectionPeriodState.EndedAangifte;
                period.EndedOn = on.Value.ToDate();
            }
            ApplyForTemporaryResidence(registration, on.Value);
        }
        if (store.Save(row, registration))
        {
            await db.SaveChangesAsync(cancellationToken);
        }
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
        // Recording what is already recorded (residence {} under update_mask legal_stay, say) changes nothing.
        if (store.Save(row, registration))
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        return registration;
    }

    /// <summary>Aangifte leads to a B8/3 application by itself, for anyone who needs a residence permit.</summary>
    private static void ApplyForTemporaryResidence(Registration registration, DateOnly on)
    {
        var stay = registration.Residence?.LegalStay ?? LegalStay.Unspecified;
        if (stay is LegalStay.DutchNational or LegalStay.EuCitizen or LegalStay.TraffickingVictimPermit || registration.Residence?.TemporaryResidence is not null)
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
