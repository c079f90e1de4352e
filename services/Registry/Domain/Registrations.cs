using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Registry.V1;
using Chain.Risk.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Contracts;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// CoMensha's registration of (possible) victims. A person is registered once: a signal or a direct
/// registration whose pseudonymous link keys match an open registration is linked to it instead.
/// Every change and its event are saved together (outbox).
/// </summary>
public sealed class Registrations(RegistryDbContext db, RegistrationStore store, EventOutbox<RegistryDbContext> outbox)
{
    public async Task<RegisterVictimResponse> RegisterAsync(string partnerId, RegisterVictimRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.ClientRequestId) || request.ClientRequestId.Length > 128)
        {
            problems.Add(("client_request_id", "is required (up to 128 characters) so a retry registers nothing twice."));
        }
        if (request.InitialStatus is not (VictimStatus.Signalled or VictimStatus.Possible))
        {
            problems.Add(("initial_status", "must be SIGNALLED or POSSIBLE; later statuses are reached with ChangeStatus."));
        }
        problems.AddRange(LinkKeyProblems(request.LinkKeys, "link_keys"));
        problems.AddRange(PersonRules.Problems(request.Person, "person"));
        InvalidRequest.ThrowIfAny(problems);
        MinorRules.ThrowUnlessMayRegister(partnerId, PersonRules.Normalised(request.Person));
        var existing = await db.Registrations.AsNoTracking().FirstOrDefaultAsync(r => r.ReporterPartnerId == partnerId && r.ClientRequestId == request.ClientRequestId, cancellationToken);
        if (existing is not null)
        {
            return new RegisterVictimResponse { Registration = Registration.Parser.ParseFrom(existing.Data), Duplicate = true };
        }
        var matches = await HeldByAsync(partnerId, await FindAsync(request.LinkKeys, cancellationToken), cancellationToken);
        var registration = New(request.InitialStatus, PartnerTypes.Of(partnerId), request.ReporterType, request.Person, request.Exploitation, request.LinkKeys,
            request.SourceSignalIds.Select(id => new RecordReference { Kind = RecordKind.Signal, RecordId = id }));
        store.Add(registration, partnerId, request.ClientRequestId);
        Registered(registration, request.SourceSignalIds);
        await db.SaveChangesAsync(cancellationToken);
        return new RegisterVictimResponse { Registration = registration, PossibleMatches = { matches } };
    }

    /// <summary>
    /// A signal's observation or assessment arrived; once both are here, the signal is registered,
    /// linked to the registration its link keys match, or kept on file when <see cref="RegistrationDuty"/>
    /// registers it only by linking and nothing matches. Saved by the caller.
    /// </summary>
    public async Task OnSignalNewsAsync(string signalId, SignalReceived? received, RiskAssessed? assessed, CancellationToken cancellationToken)
    {
        await store.LockSignalAsync(signalId, cancellationToken);
        var pending = await db.PendingSignals.FindAsync([signalId], cancellationToken);
        if (pending is null)
        {
            pending = new PendingSignalRow { SignalId = signalId };
            db.PendingSignals.Add(pending);
        }
        if (pending.Decided)
        {
            return;
        }
        pending.Received ??= received?.ToByteArray();
        // The newest assessment counts: a re-assessment may lift a signal into registration.
        pending.Assessed = assessed?.ToByteArray() ?? pending.Assessed;
        if (pending.Received is null || pending.Assessed is null)
        {
            return;
        }
        var facts = SignalReceived.Parser.ParseFrom(pending.Received);
        var assessment = RiskAssessed.Parser.ParseFrom(pending.Assessed);
        var decision = RegistrationDuty.Decide(facts, assessment);
        // Two signals about one person decided at once must not both find nothing and both register.
        await store.LockKeysAsync(facts.PersonLinkKeys, cancellationToken);
        var match = (await FindAsync(facts.PersonLinkKeys, cancellationToken)).FirstOrDefault();
        if (match is null && decision == SignalRegistration.LinkOnly)
        {
            // Kept on file, undecided: a re-assessment into a higher band may still register it.
            return;
        }
        pending.Decided = true;
        var signal = new RecordReference { Kind = RecordKind.Signal, Holder = facts.ReporterPartner, RecordId = signalId };
        if (match is not null)
        {
            var row = await db.Registrations.SingleAsync(r => r.RegistrationId == match.RegistrationId, cancellationToken);
            var registration = Registration.Parser.ParseFrom(row.Data);
            registration.LinkedRecords.Add(signal);
            foreach (var key in facts.PersonLinkKeys.Where(k => !registration.LinkKeys.Contains(k)))
            {
                registration.LinkKeys.Add(key);
                store.AddKey(registration.RegistrationId, key);
            }
            store.Save(row, registration);
            outbox.Add(new SignalLinked { EventId = Guid.CreateVersion7().ToString(), OccurredAt = Now(), RegistrationId = registration.RegistrationId, SignalId = signalId });
            return;
        }
        var created = New(
            assessment.Band >= RiskBand.High ? VictimStatus.Possible : VictimStatus.Signalled,
            facts.ReporterPartner,
            ReporterType.Unspecified,
            new PersonProfile { Minor = RegistrationDuty.IsAboutMinor(facts, assessment) },
            new ExploitationProfile { Form = facts.SuspectedForm, Sector = facts.Sector, LocationType = facts.LocationType },
            facts.PersonLinkKeys,
            [signal]);
        store.Add(created, null, null);
        Registered(created, [signalId]);
    }

    /// <summary>A registration as <paramref name="partnerId"/> may read it (<see cref="RegistrationStore.ReadHeldAsync"/>).</summary>
    public Task<Registration> GetAsync(string partnerId, string registrationId, CancellationToken cancellationToken) =>
        store.ReadHeldAsync(partnerId, registrationId, cancellationToken);

    /// <summary>The matches <paramref name="partnerId"/> may hear of: for Nidos, minors' registrations only.</summary>
    private async Task<List<LinkMatch>> HeldByAsync(string partnerId, List<LinkMatch> matches, CancellationToken cancellationToken)
    {
        if (PartnerTypes.Of(partnerId) != PartnerType.Nidos || matches.Count == 0)
        {
            return matches;
        }
        var ids = matches.Select(m => m.RegistrationId).ToList();
        var rows = await db.Registrations.AsNoTracking().Where(r => ids.Contains(r.RegistrationId)).Select(r => new { r.RegistrationId, r.Data }).ToListAsync(cancellationToken);
        var minors = rows.Where(r => MinorRules.MayHold(partnerId, Registration.Parser.ParseFrom(r.Data))).Select(r => r.RegistrationId).ToHashSet();
        return matches.Where(m => minors.Contains(m.RegistrationId)).ToList();
    }

    public async Task<Registration> ChangeStatusAsync(string partnerId, ChangeStatusRequest request, CancellationToken cancellationToken)
    {
        // Closed ones too: a closed registration may be reopened, and the status rules say when.
        var (row, registration) = await store.LoadForChangeAsync(request.RegistrationId, request.ExpectedVersion, cancellationToken, allowClosed: true);
        var reopening = registration.Status == VictimStatus.Closed;
        var refusal = reopening
            ? StatusRules.ReopeningRefusal(registration, request.NewStatus, request.ClosureReason, partnerId)
            : StatusRules.Refusal(registration.Status, request.NewStatus, request.ClosureReason, partnerId);
        if (refusal is { } refused)
        {
            throw refused.Forbidden ? new NotAllowed(refused.Reason) : new NotNow(refused.Reason);
        }
        var previous = registration.Status;
        var now = Now();
        if (reopening)
        {
            // The closure stays in the history, marked as undone.
            var closure = registration.Closures.LastOrDefault() ?? new Closure { Reason = registration.ClosureReason };
            if (!registration.Closures.Contains(closure))
            {
                registration.Closures.Add(closure);
            }
            closure.ReopenedBy = PartnerTypes.Of(partnerId);
            closure.ReopenedAt = now;
        }
        else if (request.NewStatus == VictimStatus.Closed)
        {
            registration.Closures.Add(new Closure { Reason = request.ClosureReason, StatusBefore = previous, ClosedBy = PartnerTypes.Of(partnerId), ClosedAt = now });
        }
        registration.Status = request.NewStatus;
        registration.ClosureReason = request.ClosureReason;
        registration.StatusChangedAt = now;
        store.Save(row, registration);
        outbox.Add(StatusChanged(registration, previous));
        await db.SaveChangesAsync(cancellationToken);
        return registration;
    }

    /// <summary>The status change as the chain hears it, with the signals whose signallers should hear it too.</summary>
    public static VictimStatusChanged StatusChanged(Registration registration, VictimStatus previous) => new()
    {
        EventId = Guid.CreateVersion7().ToString(),
        OccurredAt = registration.StatusChangedAt,
        RegistrationId = registration.RegistrationId,
        PreviousStatus = previous,
        NewStatus = registration.Status,
        ClosureReason = registration.ClosureReason,
        SignalIds = { SignalIdsOf(registration) },
    };

    public static IEnumerable<string> SignalIdsOf(Registration registration) =>
        registration.LinkedRecords.Where(r => r.Kind == RecordKind.Signal).Select(r => r.RecordId);

    /// <summary>Registrations holding any of the keys, the most matching kinds first.</summary>
    public async Task<List<LinkMatch>> FindAsync(IEnumerable<PersonLinkKey> keys, CancellationToken cancellationToken)
    {
        var matches = new Dictionary<string, HashSet<LinkKeyKind>>();
        foreach (var key in keys)
        {
            var hash = key.KeyedHash.ToByteArray();
            var holders = await db.LinkKeys.AsNoTracking()
                .Where(k => k.KeyId == key.KeyId && k.Kind == (int)key.Kind && k.KeyedHash == hash)
                .Select(k => k.RegistrationId).Distinct().ToListAsync(cancellationToken);
            foreach (var holder in holders)
            {
                (matches.TryGetValue(holder, out var kinds) ? kinds : matches[holder] = []).Add(key.Kind);
            }
        }
        if (matches.Count == 0)
        {
            return [];
        }
        var ids = matches.Keys.ToList();
        var rows = await db.Registrations.AsNoTracking().Where(r => ids.Contains(r.RegistrationId)).ToListAsync(cancellationToken);
        return rows
            .Where(r => r.Status != (int)VictimStatus.Closed)
            .Select(r => new LinkMatch { RegistrationId = r.RegistrationId, Status = (VictimStatus)r.Status, MatchedKinds = { matches[r.RegistrationId].Order() } })
            .OrderByDescending(m => m.MatchedKinds.Count).ThenBy(m => m.RegistrationId, StringComparer.Ordinal)
            .ToList();
    }

    public static IEnumerable<(string Field, string Description)> LinkKeyProblems(IEnumerable<PersonLinkKey> keys, string field)
    {
        var i = 0;
        foreach (var key in keys)
        {
            if (key.Kind == LinkKeyKind.Unspecified || key.KeyedHash.Length is < 16 or > 64 || string.IsNullOrWhiteSpace(key.KeyId))
            {
                yield return ($"{field}[{i}]", "needs a kind, a keyed hash of 16 to 64 bytes and the key id it was made with; never the attribute itself.");
            }
            i++;
        }
    }

    private Registration New(VictimStatus status, PartnerType reporter, ReporterType reporterType, PersonProfile? person, ExploitationProfile? exploitation,
        IEnumerable<PersonLinkKey> keys, IEnumerable<RecordReference> records)
    {
        var now = Now();
        var registration = new Registration
        {
            RegistrationId = $"reg-{Guid.CreateVersion7():N}",
            Version = 1,
            Status = status,
            ReporterPartner = reporter,
            ReporterType = reporterType,
            Person = PersonRules.Normalised(person),
            Exploitation = exploitation ?? new ExploitationProfile(),
            LinkedRecords = { records },
            LinkKeys = { keys.Distinct() },
            RegisteredAt = now,
            StatusChangedAt = now,
        };
        return registration;
    }

    private void Registered(Registration registration, IEnumerable<string> signalIds) =>
        outbox.Add(new VictimRegistered
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = registration.RegisteredAt,
            RegistrationId = registration.RegistrationId,
            Status = registration.Status,
            ReporterPartner = registration.ReporterPartner,
            SourceSignalIds = { signalIds },
            Minor = registration.Person.Minor,
            Guardian = MinorRules.GuardianOf(registration),
            ProtectedShelterNeeded = MinorRules.NeedsProtectedShelter(registration),
        });

    private Timestamp Now() => store.Now();
}
