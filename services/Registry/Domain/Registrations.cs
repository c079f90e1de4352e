using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Registry.V1;
using Chain.Risk.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Contracts;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Registry.Persistence;
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
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
        problems.AddRange(PersonLinkKeys.Problems(request.LinkKeys, "link_keys"));
        problems.AddRange(PersonRules.Problems(request.Person, "person"));
        InvalidRequest.ThrowIfAny(problems);
        MinorRules.ThrowUnlessMayRegister(partnerId, PersonRules.Normalised(request.Person));
        var existing = await db.Registrations.AsNoTracking().FirstOrDefaultAsync(r => r.ReporterPartnerId == partnerId && r.ClientRequestId == request.ClientRequestId, cancellationToken);
        if (existing is not null)
        {
            return new RegisterVictimResponse { Registration = Registration.Parser.ParseFrom(existing.Data), Duplicate = true };
        }
        var matches = await FindAsync(request.LinkKeys, partnerId, cancellationToken);
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
        pending.ChangedAt = Now().ToDateTime();
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
    public Task<List<LinkMatch>> FindAsync(IEnumerable<PersonLinkKey> keys, CancellationToken cancellationToken) =>
        FindAsync(keys, heldBy: null, cancellationToken);

    /// <summary>
    /// The open registrations holding any of the keys, as <paramref name="heldBy"/> may hear of them: for Nidos,
    /// minors' registrations only (<see cref="MinorRules.MayHold"/>). One query for all keys; only for Nidos
    /// does it bring the records along, the one partner whose answer turns on what they say.
    /// </summary>
    private async Task<List<LinkMatch>> FindAsync(IEnumerable<PersonLinkKey> keys, string? heldBy, CancellationToken cancellationToken)
    {
        var wanted = keys.Select(k => (k.KeyId, Kind: (int)k.Kind, Hash: k.KeyedHash.ToByteArray())).ToList();
        if (wanted.Count == 0)
        {
            return [];
        }
        var withRecords = heldBy is not null && PartnerTypes.Of(heldBy) == PartnerType.Nidos;
        const int closed = (int)VictimStatus.Closed;
        var hits = await db.LinkKeys.AsNoTracking().Where(AnyOf(wanted))
            .Join(db.Registrations.AsNoTracking().Where(r => r.Status != closed), k => k.RegistrationId, r => r.RegistrationId,
                (k, r) => new { r.RegistrationId, k.Kind, r.Status, Data = withRecords ? r.Data : null })
            .ToListAsync(cancellationToken);
        return hits.GroupBy(h => h.RegistrationId)
            .Where(g => g.First().Data is not { } data || MinorRules.MayHold(heldBy!, Registration.Parser.ParseFrom(data)))
            .Select(g => new LinkMatch { RegistrationId = g.Key, Status = (VictimStatus)g.First().Status, MatchedKinds = { g.Select(h => (LinkKeyKind)h.Kind).Distinct().Order() } })
            .OrderByDescending(m => m.MatchedKinds.Count).ThenBy(m => m.RegistrationId, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>A link key row equal to any of <paramref name="keys"/>: one OR of parameters, which both databases index.</summary>
    private static Expression<Func<LinkKeyRow, bool>> AnyOf(List<(string KeyId, int Kind, byte[] Hash)> keys)
    {
        var row = Expression.Parameter(typeof(LinkKeyRow), "k");
        Expression? any = null;
        foreach (var (keyId, kind, hash) in keys)
        {
            // A lambda per key, so the values are captured and sent as parameters, not written into the SQL.
            Expression<Func<LinkKeyRow, bool>> one = k => k.KeyId == keyId && k.Kind == kind && k.KeyedHash == hash;
            var body = ReplacingExpressionVisitor.Replace(one.Parameters[0], row, one.Body);
            any = any is null ? body : Expression.OrElse(any, body);
        }
        return Expression.Lambda<Func<LinkKeyRow, bool>>(any!, row);
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
