using Chain.Events.V1;
using Ketenmesh.Messaging.Outbox;
using Chain.Common.V1;
using Chain.Registry.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Contracts;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// Reading and writing registrations: the protobuf record and the columns queries need stay in step,
/// the version moves on every change, and a caller holding an old version is told to read again.
/// Nothing here saves; the caller saves the change together with its events.
/// </summary>
public sealed class RegistrationStore(RegistryDbContext db, TimeProvider clock, EventOutbox<RegistryDbContext> outbox)
{
    public Timestamp Now() => Timestamp.FromDateTimeOffset(clock.GetUtcNow());

    public DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public async Task<Registration> ReadAsync(string registrationId, CancellationToken cancellationToken)
    {
        var row = await db.Registrations.AsNoTracking().FirstOrDefaultAsync(r => r.RegistrationId == registrationId, cancellationToken)
            ?? throw NotFound(registrationId);
        return Registration.Parser.ParseFrom(row.Data);
    }

    /// <summary>
    /// A registration as <paramref name="partnerId"/> may hold it: every partner read goes through here, so
    /// no path tells Nidos more than another. Nidos naming an adult's is told there is no such
    /// registration, word for word what an unknown id gets, so a refusal never shows that an adult is
    /// registered (<see cref="MinorRules.MayHold"/>).
    /// </summary>
    public async Task<Registration> ReadHeldAsync(string partnerId, string registrationId, CancellationToken cancellationToken)
    {
        var registration = await ReadAsync(registrationId, cancellationToken);
        return MinorRules.MayHold(partnerId, registration) ? registration : throw NotFound(registrationId);
    }

    /// <summary>Loads a registration to change it; refuses a stale <paramref name="expectedVersion"/> (0 skips the check) and, unless allowed, a closed one.</summary>
    public async Task<(RegistrationRow Row, Registration Registration)> LoadForChangeAsync(string registrationId, long expectedVersion, CancellationToken cancellationToken, bool allowClosed = false)
    {
        var row = await db.Registrations.FirstOrDefaultAsync(r => r.RegistrationId == registrationId, cancellationToken)
            ?? throw NotFound(registrationId);
        if (expectedVersion != 0 && expectedVersion != row.Version)
        {
            // Only the version the caller sent: the current one is the caller's to read, if its grant lets it.
            throw new Outdated($"The registration changed since you read version {expectedVersion}; read it again.");
        }
        var registration = Registration.Parser.ParseFrom(row.Data);
        if (!allowClosed && registration.Status == VictimStatus.Closed)
        {
            // Never the survivor's id: the caller named this registration, not that one (it can read
            // merged_into_registration_id if its grant shows it).
            throw new NotNow(registration.ClosureReason == RegistrationClosureReason.Merged
                ? $"Registration '{registrationId}' was merged into another registration; change the one it was merged into."
                : $"Registration '{registrationId}' is closed; a closed registration does not change.");
        }
        return (row, registration);
    }

    public void Add(Registration registration, string? partnerId, string? clientRequestId)
    {
        var row = new RegistrationRow
        {
            RegistrationId = registration.RegistrationId,
            ReporterPartnerId = partnerId,
            ClientRequestId = clientRequestId,
            RegisteredAt = registration.RegisteredAt.ToDateTime(),
        };
        Write(row, registration);
        db.Registrations.Add(row);
        Announce(AdmissionFactsOf(registration), registration);
        foreach (var key in registration.LinkKeys)
        {
            AddKey(registration.RegistrationId, key);
        }
    }

    /// <summary>
    /// Stages a change: the next version, with the query columns following the record. A write that
    /// changed nothing stages nothing and keeps the version, so a no-op neither tells readers that the
    /// record moved nor refuses their next write as stale; false then, and the caller announces nothing.
    /// </summary>
    public bool Save(RegistrationRow row, Registration registration)
    {
        var before = Registration.Parser.ParseFrom(row.Data);
        if (before.Equals(registration))
        {
            return false;
        }
        registration.Version = row.Version + 1;
        Write(row, registration);
        // Only when a fact moved: the shelter's projection keeps the newest version it heard, so a
        // version it never hears of (facts unchanged) leaves it as right as it was.
        var facts = AdmissionFactsOf(registration);
        if (!facts.Equals(AdmissionFactsOf(before)))
        {
            Announce(facts, registration);
        }
        // Whatever path changed the residence position (RecordResidenceStatus, aangifte applying for
        // B8/3, a merge), the chain hears of it here, in the same transaction as the change: return
        // coordination waits for the IND's decision before departure may resume (001 L6278-6280).
        if (!Equals(before.Residence, registration.Residence))
        {
            outbox.Add(RegistryNews.ResidenceStatusRecorded(registration, Now()));
        }
        return true;
    }

    /// <summary>
    /// The facts COSM admission turns on, which the shelter service is told of whenever they change, so it decides
    /// from its own projection. Source: seeds/001…txt L7982–7984: "dat slachtoffers meerderjarig en buitenlands moeten
    /// zijn, in de bedenktijd moeten zitten en niet eerder in een asieltraject gezeten mogen hebben"; L7991–7994: "nog
    /// geen aangifte gedaan".
    /// </summary>
    private static RegistrationAdmissionFacts AdmissionFactsOf(Registration registration) => new()
    {
        RegistrationId = registration.RegistrationId,
        Minor = registration.Person?.Minor ?? false,
        DutchNational = LegalPathRules.IsDutch(registration),
        InReflectionPeriod = registration.ReflectionPeriod?.State == ReflectionPeriodState.Running,
        AangifteMade = registration.AangifteStatus == AangifteStatus.Made,
        AsylumProcedure = registration.Residence?.LegalStay == LegalStay.AsylumSeeker,
        Closed = registration.Status == VictimStatus.Closed,
    };

    private void Announce(RegistrationAdmissionFacts facts, Registration registration)
    {
        facts.EventId = Guid.CreateVersion7().ToString();
        facts.OccurredAt = Now();
        facts.Version = registration.Version;
        outbox.Add(facts);
    }

    public void AddKey(string registrationId, PersonLinkKey key) =>
        db.LinkKeys.Add(new LinkKeyRow { RegistrationId = registrationId, Kind = (int)key.Kind, KeyId = key.KeyId, KeyedHash = key.KeyedHash.ToByteArray() });

    /// <summary>
    /// Holds each key for the rest of the transaction (PostgreSQL advisory locks, taken in one order so
    /// two holders cannot deadlock). SQLite needs none: it lets one writer through at a time, and a
    /// writer that read before another's commit fails and is retried.
    /// </summary>
    public Task LockKeysAsync(IEnumerable<PersonLinkKey> keys, CancellationToken cancellationToken) =>
        LockAsync(keys.Select(k => LockIdOf($"{k.KeyId}/{(int)k.Kind}/", k.KeyedHash.ToByteArray())), cancellationToken);

    /// <summary>
    /// Holds a signal for the rest of the transaction, so its two halves (what was observed, how it was
    /// assessed), arriving at once on two consumers, are taken in turn rather than racing to file it.
    /// </summary>
    public Task LockSignalAsync(string signalId, CancellationToken cancellationToken) =>
        LockAsync([LockIdOf("signal/", System.Text.Encoding.UTF8.GetBytes(signalId))], cancellationToken);

    private async Task LockAsync(IEnumerable<long> lockIds, CancellationToken cancellationToken)
    {
        if (!db.Database.IsNpgsql())
        {
            return;
        }
        foreach (var lockId in lockIds.Distinct().Order())
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock({0})", [lockId], cancellationToken);
        }
    }

    public static NotFound NotFound(string registrationId) => new($"There is no registration '{registrationId}'.");

    private static void Write(RegistrationRow row, Registration registration)
    {
        row.Version = registration.Version;
        row.Status = (int)registration.Status;
        // Only an open registration's running period is watched; a merged one's lives on in the survivor.
        row.ReflectionEndsOn = registration is { Status: not VictimStatus.Closed, ReflectionPeriod: { State: ReflectionPeriodState.Running } period } ? period.EndOn.ToDateOnly() : null;
        row.Guardian = GuardianColumnOf(registration);
        row.Data = registration.ToByteArray();
    }

    /// <summary>
    /// The guardian ListWards finds the registration under: the one the registration names
    /// (<see cref="MinorRules.GuardianOf"/>), kept in step on every write, so a minor later found to be
    /// Dutch, or found to be a minor, moves with the record. A merged registration lives on in its
    /// survivor and is listed to no one.
    /// </summary>
    public static int GuardianColumnOf(Registration registration) =>
        registration is { Status: VictimStatus.Closed, ClosureReason: RegistrationClosureReason.Merged } ? 0 : (int)MinorRules.GuardianOf(registration);

    private static long LockIdOf(string kind, byte[] value) =>
        BitConverter.ToInt64(System.Security.Cryptography.SHA256.HashData([.. System.Text.Encoding.UTF8.GetBytes(kind), .. value]), 0);
}
