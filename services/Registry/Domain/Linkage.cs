using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Registry.V1;
using Google.Protobuf;
using Ketenmesh.Contracts;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// Pseudonymous record linkage and merging: the answer to the double counting the Rapporteur names.
/// A key belongs to one open registration at a time; when two registrations turn out to be one person,
/// they are merged: the survivor takes the keys, records, consents and facts of the others, which stay
/// readable, closed as MERGED and pointing at the survivor.
/// </summary>
public sealed class Linkage(RegistryDbContext db, RegistrationStore store, Registrations registrations, Consents consents, EventOutbox<RegistryDbContext> outbox)
{
    public const int MaxMerged = 20;

    public async Task<Registration> LinkRecordsAsync(string partnerId, LinkRecordsRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string Field, string Description)>();
        if (string.IsNullOrWhiteSpace(request.RegistrationId))
        {
            problems.Add(("registration_id", "is required."));
        }
        if (request.LinkKeys.Count == 0 && request.Records.Count == 0)
        {
            problems.Add(("link_keys", "name at least one key or record to link."));
        }
        problems.AddRange(PersonLinkKeys.Problems(request.LinkKeys, "link_keys"));
        for (var i = 0; i < request.Records.Count; i++)
        {
            var record = request.Records[i];
            if (record.Kind == RecordKind.Unspecified || !Enum.IsDefined(record.Kind))
            {
                problems.Add(($"records[{i}].kind", "must be SIGNAL, PLACEMENT, RETURN_CASE or PARTNER_FILE."));
            }
            if (record.Holder == PartnerType.Unspecified || !Enum.IsDefined(record.Holder))
            {
                problems.Add(($"records[{i}].holder", "must name the partner type that holds the record."));
            }
            if (string.IsNullOrWhiteSpace(record.RecordId) || record.RecordId.Length > 128)
            {
                problems.Add(($"records[{i}].record_id", "is required (up to 128 characters): the record's id in the holder's system."));
            }
        }
        InvalidRequest.ThrowIfAny(problems);
        // One transaction: the key locks hold until the link is committed.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (row, registration) = await store.LoadForChangeAsync(request.RegistrationId, request.ExpectedVersion, cancellationToken);
        // Consent comes before anything about the keys is looked at, so a caller without it learns nothing from them.
        await RequireConsentAsync(PartnerTypes.Of(partnerId), registration.RegistrationId, request, cancellationToken);
        await store.LockKeysAsync(request.LinkKeys, cancellationToken);
        var newKeys = request.LinkKeys.Distinct().Where(k => !registration.LinkKeys.Contains(k)).ToList();
        if ((await registrations.FindAsync(newKeys, cancellationToken)).Any(m => m.RegistrationId != registration.RegistrationId))
        {
            // Never which registration holds it: that would be FindByLinkKeys for a caller whose grant may not include it.
            throw new NotNow("A link key you sent is already held by another registration. If both are the same person, CoMensha can merge them with MergeRegistrations.");
        }
        foreach (var key in newKeys)
        {
            registration.LinkKeys.Add(key);
            store.AddKey(registration.RegistrationId, key);
        }
        foreach (var record in request.Records.Distinct().Where(r => !registration.LinkedRecords.Contains(r)))
        {
            registration.LinkedRecords.Add(record);
        }
        if (store.Save(row, registration))
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return registration;
    }

    /// <summary>
    /// The registry is CoMensha's: whatever another partner attaches to a registration tells CoMensha
    /// something about the person, which the brief allows only with consent (findings go back with the
    /// consent of the partner that supplied them; IOM tells CoMensha about a return only with the
    /// victim's written consent). So a partner other than CoMensha attaches only records it holds
    /// itself (it cannot consent for another holder), each under a consent in force letting it tell
    /// CoMensha about that record's topic, and keys under a consent letting it tell CoMensha about the
    /// person at all (a key says "we know this person"). Everything IOM knows of a person is its
    /// return, so IOM's keys and records need a written consent on RETURN.
    /// </summary>
    private async Task RequireConsentAsync(PartnerType caller, string registrationId, LinkRecordsRequest request, CancellationToken cancellationToken)
    {
        if (caller == PartnerType.Comensha)
        {
            return;
        }
        var written = caller == PartnerType.Iom;
        for (var i = 0; i < request.Records.Count; i++)
        {
            var record = request.Records[i];
            if (record.Holder != caller)
            {
                throw new NotAllowed($"records[{i}] is held by {record.Holder}; a partner links only records it holds itself.");
            }
            await consents.RequireAsync(registrationId, caller, PartnerType.Comensha, written ? DisclosureTopic.Return : TopicOf(record.Kind), written,
                $"Linking records[{i}] ({record.Kind} {record.RecordId})", cancellationToken);
        }
        if (request.LinkKeys.Count > 0)
        {
            await consents.RequireAsync(registrationId, caller, PartnerType.Comensha, written ? DisclosureTopic.Return : null, written, "Linking link_keys", cancellationToken);
        }
    }

    private static DisclosureTopic TopicOf(RecordKind kind) => kind switch
    {
        RecordKind.ReturnCase => DisclosureTopic.Return,
        RecordKind.Placement => DisclosureTopic.ShelterPlacement,
        _ => DisclosureTopic.CaseFindings,
    };

    public async Task<MergeRegistrationsResponse> MergeAsync(string partnerId, MergeRegistrationsRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string Field, string Description)>();
        if (string.IsNullOrWhiteSpace(request.ClientRequestId) || request.ClientRequestId.Length > 128)
        {
            problems.Add(("client_request_id", "is required (up to 128 characters) so a retry merges nothing twice."));
        }
        if (string.IsNullOrWhiteSpace(request.SurvivingRegistrationId))
        {
            problems.Add(("surviving_registration_id", "is required: the registration that remains."));
        }
        if (request.MergedRegistrationIds.Count is 0 or > MaxMerged || request.MergedRegistrationIds.Any(string.IsNullOrWhiteSpace))
        {
            problems.Add(("merged_registration_ids", $"name 1 to {MaxMerged} registrations to merge into the survivor."));
        }
        else if (request.MergedRegistrationIds.Distinct().Count() != request.MergedRegistrationIds.Count || request.MergedRegistrationIds.Contains(request.SurvivingRegistrationId))
        {
            problems.Add(("merged_registration_ids", "must be distinct and must not include the surviving registration."));
        }
        if (request.Reason == MergeReason.Unspecified || !Enum.IsDefined(request.Reason))
        {
            problems.Add(("reason", "must be DUPLICATE_REPORT or SAME_PERSON_ALIAS."));
        }
        InvalidRequest.ThrowIfAny(problems);
        if (await db.Merges.AsNoTracking().FirstOrDefaultAsync(m => m.PartnerId == partnerId && m.ClientRequestId == request.ClientRequestId, cancellationToken) is { } earlier)
        {
            var merge = MergeRecord.Parser.ParseFrom(earlier.Data);
            if (earlier.SurvivingRegistrationId != request.SurvivingRegistrationId || !merge.MergedRegistrationIds.Order().SequenceEqual(request.MergedRegistrationIds.Order()))
            {
                throw new AlreadyExists($"client_request_id '{request.ClientRequestId}' was used for another merge; use a new id for a new merge.");
            }
            return new MergeRegistrationsResponse { Registration = await store.ReadAsync(earlier.SurvivingRegistrationId, cancellationToken), Merge = merge };
        }

        // One transaction: the key locks hold until the merge is committed.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (survivorRow, survivor) = await store.LoadForChangeAsync(request.SurvivingRegistrationId, 0, cancellationToken);
        var merged = new List<(RegistrationRow Row, Registration Registration)>();
        foreach (var id in request.MergedRegistrationIds)
        {
            merged.Add(await store.LoadForChangeAsync(id, 0, cancellationToken));
        }
        await store.LockKeysAsync(merged.SelectMany(m => m.Registration.LinkKeys).Concat(survivor.LinkKeys), cancellationToken);

        var now = store.Now();
        var record = new MergeRecord { MergedRegistrationIds = { request.MergedRegistrationIds }, Reason = request.Reason, MergedBy = PartnerTypes.Of(partnerId), MergedAt = now };
        var previousStatus = survivor.Status;
        foreach (var (row, other) in merged)
        {
            Absorb(survivor, survivorRow, other, row);
            db.LinkKeys.RemoveRange(await db.LinkKeys.Where(k => k.RegistrationId == other.RegistrationId).ToListAsync(cancellationToken));
            foreach (var key in other.LinkKeys.Where(k => !survivor.LinkKeys.Contains(k)))
            {
                survivor.LinkKeys.Add(key);
                store.AddKey(survivor.RegistrationId, key);
            }
            await consents.MoveAsync(other.RegistrationId, survivor.RegistrationId, cancellationToken);
            var otherStatus = other.Status;
            other.Status = VictimStatus.Closed;
            other.ClosureReason = RegistrationClosureReason.Merged;
            other.MergedIntoRegistrationId = survivor.RegistrationId;
            other.StatusChangedAt = now;
            store.Save(row, other);
            outbox.Add(Registrations.StatusChanged(other, otherStatus));
        }
        survivor.MergeHistory.Add(record);
        if (survivor.Status != previousStatus)
        {
            survivor.StatusChangedAt = now;
            outbox.Add(Registrations.StatusChanged(survivor, previousStatus));
        }
        store.Save(survivorRow, survivor);
        db.Merges.Add(new MergeRow
        {
            MergeId = $"merge-{Guid.CreateVersion7():N}",
            PartnerId = partnerId,
            ClientRequestId = request.ClientRequestId,
            SurvivingRegistrationId = survivor.RegistrationId,
            Data = record.ToByteArray(),
            MergedAt = now.ToDateTime(),
        });
        outbox.Add(new RegistrationsMerged
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = now,
            SurvivingRegistrationId = survivor.RegistrationId,
            MergedRegistrationIds = { request.MergedRegistrationIds },
            Reason = request.Reason,
            SignalIds = { merged.SelectMany(m => Registrations.SignalIdsOf(m.Registration)) },
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new MergeRegistrationsResponse { Registration = survivor, Merge = record };
    }

    /// <summary>
    /// What the survivor takes from a registration of the same person: records and history always, the
    /// furthest status, and any fact the survivor does not know yet. What the survivor knows stays.
    /// </summary>
    private static void Absorb(Registration survivor, RegistrationRow survivorRow, Registration other, RegistrationRow otherRow)
    {
        foreach (var record in other.LinkedRecords.Where(r => !survivor.LinkedRecords.Contains(r)))
        {
            survivor.LinkedRecords.Add(record);
        }
        survivor.MergeHistory.Add(other.MergeHistory);
        // The other's closings, each reopened (a closed registration is not merged), are the person's history too.
        survivor.Closures.Add(other.Closures.Select(c => c.Clone()));
        // Where the person is placed: the survivor's placement stays, else it takes the other's. A later
        // release of that placement reaches both (ShelterPlacements follows a merged registration to its survivor).
        survivor.ShelterPlacement ??= other.ShelterPlacement?.Clone();
        if (other.Status > survivor.Status)
        {
            survivor.Status = other.Status;
        }
        var person = survivor.Person ??= new PersonProfile();
        var theirs = other.Person ?? new PersonProfile();
        if (person.Sex == Sex.Unspecified)
        {
            person.Sex = theirs.Sex;
        }
        if (!person.HasAgeAtRegistration && theirs.HasAgeAtRegistration)
        {
            person.AgeAtRegistration = theirs.AgeAtRegistration;
        }
        if (!person.HasAgeAtExploitationStart && theirs.HasAgeAtExploitationStart)
        {
            person.AgeAtExploitationStart = theirs.AgeAtExploitationStart;
        }
        person.Minor |= theirs.Minor;
        person.Nationalities.Add(theirs.Nationalities.Where(n => !person.Nationalities.Contains(n)).ToList());
        person.Languages.Add(theirs.Languages.Where(l => !person.Languages.Contains(l)).ToList());
        var exploitation = survivor.Exploitation ??= new ExploitationProfile();
        var theirExploitation = other.Exploitation ?? new ExploitationProfile();
        if (exploitation.Form == FormOfExploitation.Unspecified)
        {
            exploitation.Form = theirExploitation.Form;
        }
        if (exploitation.Scope == ExploitationScope.Unspecified)
        {
            exploitation.Scope = theirExploitation.Scope;
        }
        if (exploitation.Sector == Sector.Unspecified)
        {
            exploitation.Sector = theirExploitation.Sector;
        }
        if (exploitation.LocationType == LocationType.Unspecified)
        {
            exploitation.LocationType = theirExploitation.LocationType;
        }
        AbsorbLegalPath(survivor, survivorRow, other, otherRow);
    }

    /// <summary>
    /// The legal path of one person told twice, resolved as if every fact had come to one registration:
    /// the statements partners gave and the corrections made are all kept; the reflection period is the
    /// one granted first (it is granted once); the residence position is filled in field by field, the
    /// survivor's standing; the aangifte is the first one made, which ends the period and applies for
    /// B8/3 as it would have (<see cref="ReflectionAndResidence.Apply"/>), else the latest status recorded.
    /// The merged registration keeps its own record, closed as MERGED.
    /// </summary>
    /// <remarks>
    /// Source: seeds/001…txt L7245–7248: "nadenken over het doen van aangifte of anderszins meewerken. Als het slachtoffer besluit
    /// aangifte te doen … krijgt hij of zij van de … (IND) een tijdelijke verblijfsvergunning"; the period is one right of
    /// "maximaal drie maanden" (L7244–7245), so a second period is never granted beside the first.
    /// </remarks>
    private static void AbsorbLegalPath(Registration survivor, RegistrationRow survivorRow, Registration other, RegistrationRow otherRow)
    {
        foreach (var statement in other.LegalStatements.Where(s => !survivor.LegalStatements.Any(mine => mine.Kind == s.Kind && mine.GivenBy == s.GivenBy)))
        {
            survivor.LegalStatements.Add(statement.Clone());
        }
        survivor.AangifteCorrections.Add(other.AangifteCorrections.Select(c => c.Clone()));
        if (other.Residence is { } theirs)
        {
            var residence = survivor.Residence ??= new ResidenceStatus();
            if (residence.LegalStay == LegalStay.Unspecified)
            {
                residence.LegalStay = theirs.LegalStay;
            }
            residence.TemporaryResidence ??= theirs.TemporaryResidence?.Clone();
            residence.ContinuedResidence ??= theirs.ContinuedResidence?.Clone();
        }
        if (other.ReflectionPeriod is { } period && (survivor.ReflectionPeriod is null || period.StartOn.ToDateOnly() < survivor.ReflectionPeriod.StartOn.ToDateOnly()))
        {
            survivor.ReflectionPeriod = period.Clone();
            survivorRow.ReflectionReminded = otherRow.ReflectionReminded;
        }
        var facts = new[] { survivor, other }
            .Where(r => r.AangifteStatus != AangifteStatus.Unspecified)
            .Select(r => (Status: r.AangifteStatus, On: r.AangifteStatusOn?.ToDateOnly() ?? DateOnly.MinValue))
            .ToList();
        if (facts.Count == 0)
        {
            return;
        }
        var made = facts.Where(f => f.Status == AangifteStatus.Made).OrderBy(f => f.On).Cast<(AangifteStatus Status, DateOnly On)?>().FirstOrDefault();
        // The latest fact, the survivor's on a tie.
        var (status, on) = made ?? facts.OrderByDescending(f => f.On).First();
        if (status == AangifteStatus.InReflectionPeriod)
        {
            survivor.AangifteStatus = status;
            survivor.AangifteStatusOn = on.ToDate();
            return;
        }
        ReflectionAndResidence.Apply(survivor, status, on);
    }
}
