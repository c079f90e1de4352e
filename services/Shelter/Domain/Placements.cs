using Chain.Events.V1;
using Chain.Shelter.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Contracts;
using Ketenmesh.Domain;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Persistence;
using Ketenmesh.Shelter.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// Placements: a bed is held for a registered person, then the shelter confirms it or it goes back. A
/// hold is taken inside a capacity change (<see cref="CapacityBoard.BeginChangeAsync"/>), which runs one at
/// a time over the whole service: two requests for the last bed are decided one after the other, so a bed
/// is never given twice, on PostgreSQL and on SQLite alike.
/// </summary>
public sealed class Placements(ShelterDbContext db, CapacityBoard board, BedOffers offers, EventOutbox<ShelterDbContext> outbox, TimeProvider clock, IOptions<PlacementOptions> options)
{
    /// <summary>CoMensha coordinates every placement and sees them all (BRIEF.md partner table: "shelter placement, waiting lists").</summary>
    public const string Coordinator = "comensha";

    public async Task<(Placement Placement, bool Duplicate)> RequestAsync(string partnerId, RequestPlacementRequest request, CancellationToken cancellationToken)
    {
        InvalidRequest.ThrowIfAny(Validate(request));
        // The same request may race in on another connection and win (its client_request_id is taken): answered as a resubmission.
        (Placement Placement, bool Duplicate) answer = await db.FirstWriterWinsAsync(() => TryRequestAsync(partnerId, request, cancellationToken));
        if (!answer.Duplicate && partnerId != Coordinator && request.Needs.Category == ShelterCategory.Cosm)
        {
            // Answered before it was decided (see TryRequestAsync); decided now, on the registry's facts, as any
            // waiting COSM request is when those facts arrive.
            await ReconsiderAsync([answer.Placement.RegistrationId], cancellationToken);
        }
        return answer;
    }

    private async Task<(Placement, bool)> TryRequestAsync(string partnerId, RequestPlacementRequest request, CancellationToken cancellationToken)
    {
        // Read before taking the capacity turn, so a resubmission waits for no one. Two copies racing past this both
        // take their turn; the second's insert breaks the unique (requested_by, client_request_id) index and
        // RequestAsync answers it with what the first stored.
        if (await db.Placements.AsNoTracking().FirstOrDefaultAsync(p => p.RequestedBy == partnerId && p.ClientRequestId == request.ClientRequestId, cancellationToken) is { } known)
        {
            // Stored under the survivor when the registration was merged, before or after it was stored.
            var storedUnder = await SurvivorOfAsync(request.RegistrationId, cancellationToken);
            return (known.RegistrationId == request.RegistrationId || known.RegistrationId == storedUnder) && known.Needs.AsSpan().SequenceEqual(request.Needs.ToByteArray())
                   && (known.ArrangementId is null || known.ArrangementId == request.ArrangementId)
                ? (ToPlacement(known, partnerId), true)
                : throw new AlreadyExists("client_request_id was already used for a different placement request; use a new id for a new request.");
        }
        var category = (int)request.Needs.Category;
        // The facts are read inside the capacity turn: facts committed meanwhile are then either read here or, when they
        // come after this turn, reconsidered with this request in a turn of their own (ReconsiderAsync), never lost between.
        await using var change = await board.BeginChangeAsync(cancellationToken);
        // A registration the registry merged into another lives on in the survivor: the request is kept (and decided) there.
        // Read inside the turn, which a merge waits for too (FollowMergeAsync): a merge committed before it is seen here,
        // and one after it moves this request with the others.
        var registrationId = await SurvivorOfAsync(request.RegistrationId, cancellationToken);
        List<CosmIneligibility>? refusedCosm = null;
        var cosmUndecided = false;
        // What the registry told this service of the person: COSM admission is decided on it, and a minor goes to a secured
        // bed. That tells no requester more than it reads: the ones shown a placement's state or shelter (CoMensha, care,
        // Nidos) read a registration's minor flag under their grants; police and inspectorate are shown its id only.
        var facts = await db.AdmissionFacts.AsNoTracking().FirstOrDefaultAsync(f => f.RegistrationId == registrationId && !f.Closed, cancellationToken);
        if (request.Needs.Category == ShelterCategory.Cosm && partnerId != Coordinator)
        {
            // Whether the person meets the criteria, and whether the registry holds the registration at all, are registry
            // facts for CoMensha. Any other requester gets one answer whatever the registry says: the request waits on the
            // COSM list. It is decided right after, in a change of its own (RequestAsync), so this answer tells nothing.
            cosmUndecided = true;
        }
        else if (request.Needs.Category == ShelterCategory.Cosm)
        {
            // Decided on what the registry told this service, never on what the requester claims in needs.
            // No facts (the registry has not told of the registration yet, or closed it): the request waits on its list
            // for CoMensha to review, answered as any waiting request is; a refusal here would tell any requester
            // whether the registry holds an open registration by that id.
            cosmUndecided = facts is null;
            refusedCosm = facts is null ? null : CosmAdmission.Check(facts);
        }
        // Someone under acute threat, or a minor, goes to a secured shelter or waits for one: an unsecured bed is no place for them.
        var securedOnly = ProtectedShelter.SecuredOnly(request.Needs, facts);
        var secured = db.Shelters.Where(s => s.Secured).Select(s => s.ShelterId);
        var free = await db.Beds.Where(b => b.Category == category && b.Total - b.Occupied - b.Held > 0 && (!securedOnly || secured.Contains(b.ShelterId)))
            .ToListAsync(cancellationToken);
        var bed = free
            .OrderByDescending(b => b.ShelterId == request.PreferredShelterId)
            .ThenByDescending(b => b.Total - b.Occupied - b.Held)
            .ThenBy(b => b.ShelterId, StringComparer.Ordinal)
            .FirstOrDefault();
        // Found in a large group's action: the bed comes out of the places held for the group (already reserved, so no free
        // bed is taken and capacity does not change), or the request is matched as any other when none of them is left.
        var fromGroup = request.ArrangementId.Length > 0 && !cosmUndecided && refusedCosm is not { Count: > 0 }
            ? await LargeGroups.TakePlaceAsync(db, partnerId, request.ArrangementId, category, request.PreferredShelterId, cancellationToken)
            : null;
        bed = fromGroup ?? bed;
        var row = new PlacementRow
        {
            PlacementId = $"plc-{Guid.CreateVersion7():N}",
            RegistrationId = registrationId,
            RequestedBy = partnerId,
            ClientRequestId = request.ClientRequestId,
            Category = category,
            Needs = request.Needs.ToByteArray(),
            ArrangementId = request.ArrangementId,
            FromGroupPlace = fromGroup is not null,
            RequestedAt = change.Now,
            Version = 1,
        };
        db.Placements.Add(row);
        if (refusedCosm is not null)
        {
            row.CosmEligible = refusedCosm.Count == 0;
            row.Ineligibility = string.Join(",", refusedCosm.Select(r => (int)r));
        }
        if (cosmUndecided || refusedCosm is { Count: > 0 } || bed is null)
        {
            // Not (yet) admitted to COSM, or no bed to hold: the request waits on its list, and capacity did not change.
            row.State = (int)PlacementState.Waitlisted;
            row.WaitingList = (int)WaitingLists.For(request.Needs, refusedCosm is { Count: > 0 });
            AnnounceRequest(change, row, request.Needs);
            await offers.AnnounceWaitingListAsync(change, row, joined: true, cancellationToken);
            await change.CommitWithoutCapacityAsync(cancellationToken);
            return (ToPlacement(row, partnerId), false);
        }
        row.State = (int)PlacementState.Held;
        row.ShelterId = bed.ShelterId;
        row.HoldExpiresAt = change.Now + options.Value.HoldDuration;
        AnnounceRequest(change, row, request.Needs);
        if (fromGroup is not null)
        {
            // The group's reserved place became this placement's: the shelter's counts are as they were.
            await change.CommitWithoutCapacityAsync(cancellationToken);
            return (ToPlacement(row, partnerId), false);
        }
        bed.Held++;
        var shelter = await db.Shelters.FirstAsync(s => s.ShelterId == bed.ShelterId, cancellationToken);
        change.Record(shelter, await BedsOfAsync(bed.ShelterId, cancellationToken));
        await change.CommitAsync(cancellationToken);
        return (ToPlacement(row, partnerId), false);
    }

    /// <summary>
    /// CoMensha reads every placement; a shelter only those in its own beds; any other requester only its own
    /// requests. Anything else is "not found", so the answer never tells a caller a placement exists.
    /// </summary>
    public async Task<Placement> GetAsync(string partnerId, string placementId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(placementId))
        {
            throw new InvalidRequest("placement_id is required.", [("placement_id", "is required")]);
        }
        var row = await db.Placements.AsNoTracking().FirstOrDefaultAsync(p => p.PlacementId == placementId, cancellationToken);
        return row is not null && MayRead(partnerId, row) ? ToPlacement(row, partnerId) : throw NotVisible();
    }

    /// <summary>
    /// The shelter confirms (PLACED), declines (DECLINED) or ends (ENDED) a placement in its beds; CoMensha or the
    /// requester cancels one (CANCELLED). Every change that frees or fills a bed is a capacity change.
    /// </summary>
    public async Task<Placement> DecideAsync(string partnerId, RecordPlacementDecisionRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string, string)>();
        if (string.IsNullOrEmpty(request.PlacementId))
        {
            problems.Add(("placement_id", "is required."));
        }
        if (request.NewState is not (PlacementState.Placed or PlacementState.Declined or PlacementState.Ended or PlacementState.Cancelled))
        {
            problems.Add(("new_state", "must be PLACED, DECLINED, ENDED or CANCELLED."));
        }
        if (request.ExpectedVersion <= 0)
        {
            problems.Add(("expected_version", "is required: the placement version you last read."));
        }
        InvalidRequest.ThrowIfAny(problems);

        // Read and authorised before taking the service-wide capacity turn: a caller who may not touch this placement
        // (or names none) is refused without making every report and placement wait for it.
        var seen = await db.Placements.AsNoTracking().FirstOrDefaultAsync(p => p.PlacementId == request.PlacementId, cancellationToken);
        if (seen is null || !MayRead(partnerId, seen))
        {
            throw NotVisible();
        }
        Authorise(partnerId, seen, request);

        await using var change = await board.BeginChangeAsync(cancellationToken);
        // Read again inside the change: the placement may have moved on (a hold offered, expired or confirmed) meanwhile.
        var row = await db.Placements.FirstOrDefaultAsync(p => p.PlacementId == request.PlacementId, cancellationToken);
        if (row is null || !MayRead(partnerId, row))
        {
            throw NotVisible();
        }
        Authorise(partnerId, row, request);
        if (row.Version != request.ExpectedVersion)
        {
            throw new Outdated($"The placement changed since version {request.ExpectedVersion} (it is now at version {row.Version}); nothing was changed. Read it again.");
        }
        var state = (PlacementState)row.State;
        if (state == PlacementState.Held && row.HoldExpiresAt <= change.Now)
        {
            // Released here and now, not left for the expiry job: the shelter is told at once, and the bed is free for the next.
            var offered = row.OfferedFrom != 0;
            await ReleaseAsync(change, row, PlacementState.Expired, cancellationToken);
            await change.CommitAsync(cancellationToken);
            throw new NotNow(offered
                ? "The hold on this bed expired before it was confirmed; the bed was released and the person is back on the waiting list."
                : "The hold on this bed expired before it was confirmed; the bed was released. Request a new placement.");
        }
        switch (state, request.NewState)
        {
            case (PlacementState.Held, PlacementState.Placed):
                var bed = await db.Beds.FirstAsync(b => b.ShelterId == row.ShelterId && b.Category == row.Category, cancellationToken);
                bed.Held--;
                bed.Occupied++;
                row.State = (int)PlacementState.Placed;
                row.PlacedAt = change.Now;
                row.HoldExpiresAt = null;
                row.Version++;
                outbox.Add(new PlacementConfirmed
                {
                    EventId = Guid.CreateVersion7().ToString(),
                    OccurredAt = Timestamp.FromDateTime(change.Now),
                    PlacementId = row.PlacementId,
                    RegistrationId = row.RegistrationId,
                    ShelterId = row.ShelterId!,
                    Category = (ShelterCategory)row.Category,
                });
                change.Record(await db.Shelters.FirstAsync(s => s.ShelterId == row.ShelterId, cancellationToken), await BedsOfAsync(row.ShelterId!, cancellationToken));
                await change.CommitAsync(cancellationToken);
                break;
            case (PlacementState.Held, PlacementState.Declined or PlacementState.Cancelled):
            case (PlacementState.Placed, PlacementState.Ended):
                await ReleaseAsync(change, row, request.NewState, cancellationToken);
                await change.CommitAsync(cancellationToken);
                break;
            case (PlacementState.Waitlisted or PlacementState.Requested, PlacementState.Cancelled):
                row.State = (int)PlacementState.Cancelled;
                row.EndedAt = change.Now;
                row.Version++;
                await offers.AnnounceWaitingListAsync(change, row, joined: false, cancellationToken);
                await change.CommitWithoutCapacityAsync(cancellationToken);
                break;
            default:
                throw new NotNow($"A placement that is {state} cannot become {request.NewState}.");
        }
        return ToPlacement(row, partnerId);
    }

    /// <summary>Who may make this decision on <paramref name="row"/>: the shelter whose bed it is, or (to cancel) CoMensha or the requester.</summary>
    private static void Authorise(string partnerId, PlacementRow row, RecordPlacementDecisionRequest request)
    {
        var atShelter = row.ShelterId is not null && row.ShelterId == partnerId;
        var mayCancel = partnerId == Coordinator || row.RequestedBy == partnerId;
        if (request.NewState == PlacementState.Cancelled ? !mayCancel : !atShelter)
        {
            throw new NotAllowed(request.NewState == PlacementState.Cancelled
                ? "Only CoMensha or the partner that requested a placement cancels it."
                : "Only the shelter whose bed it is confirms, declines or ends a placement.");
        }
        if (request.ShelterId.Length > 0 && request.ShelterId != row.ShelterId)
        {
            throw new InvalidRequest("shelter_id is not the shelter the bed is held in.", [("shelter_id", "leave empty, or name the shelter the bed is held in")]);
        }
    }

    /// <summary>Releases every hold whose time ran out by now; returns how many. Each release is its own capacity change.</summary>
    public async Task<int> ExpireHoldsAsync(CancellationToken cancellationToken)
    {
        var released = 0;
        while (true)
        {
            // Looked for first, outside any change: the job runs every few seconds on every replica, and taking the
            // service-wide capacity turn to find nothing would make every placement and report wait for it.
            var now = PlacementRow.Moment(clock.GetUtcNow());
            if (!await db.Placements.AnyAsync(p => p.State == (int)PlacementState.Held && p.HoldExpiresAt <= now, cancellationToken))
            {
                return released;
            }
            await using var change = await board.BeginChangeAsync(cancellationToken);
            var expired = await db.Placements
                .Where(p => p.State == (int)PlacementState.Held && p.HoldExpiresAt <= change.Now)
                .OrderBy(p => p.HoldExpiresAt).FirstOrDefaultAsync(cancellationToken);
            if (expired is null)
            {
                return released;
            }
            await ReleaseAsync(change, expired, PlacementState.Expired, cancellationToken);
            await change.CommitAsync(cancellationToken);
            released++;
        }
    }

    /// <summary>
    /// Gives a held or occupied bed back and tells the chain (PlacementReleased). A hold offered to someone waiting that
    /// ran out unconfirmed is not the end of their request: the bed goes to the next who waits for it, and they go back
    /// on their list in their old turn.
    /// </summary>
    private async Task ReleaseAsync(CapacityChange change, PlacementRow row, PlacementState newState, CancellationToken cancellationToken)
    {
        var bed = await db.Beds.FirstAsync(b => b.ShelterId == row.ShelterId && b.Category == row.Category, cancellationToken);
        var shelterId = row.ShelterId!;
        // A hold on one of a large group's places that ends unused (not confirmed in time, declined, cancelled) gives the
        // place back to the group while its arrangement holds: the bed stays reserved for the next person found in the
        // action, instead of going to whoever waits, which the arrangement was made to prevent.
        var backToGroup = row.State == (int)PlacementState.Held && row.FromGroupPlace
            && await LargeGroups.ReturnPlaceAsync(db, row.ArrangementId!, shelterId, row.Category, cancellationToken);
        if (row.State == (int)PlacementState.Placed)
        {
            bed.Occupied = Math.Max(0, bed.Occupied - 1);
        }
        else if (!backToGroup)
        {
            bed.Held = Math.Max(0, bed.Held - 1);
        }
        if (newState == PlacementState.Expired && row.State == (int)PlacementState.Held && row.OfferedFrom != 0)
        {
            // Offered first to the next in line (this person is not on the list yet): the same bed held again for them
            // would stay unconfirmed as this hold did, and keep the others waiting for it. No PlacementReleased: nothing
            // was placed, and the registry would take this placement as ended for good.
            await offers.OfferToHeadAsync(change, bed, cancellationToken);
            await offers.ReturnToListAsync(change, row, cancellationToken);
            change.Record(await db.Shelters.FirstAsync(s => s.ShelterId == shelterId, cancellationToken), await BedsOfAsync(shelterId, cancellationToken));
            return;
        }
        row.State = (int)newState;
        row.EndedAt = change.Now;
        row.HoldExpiresAt = null;
        row.Version++;
        outbox.Add(new PlacementReleased
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Timestamp.FromDateTime(change.Now),
            PlacementId = row.PlacementId,
            RegistrationId = row.RegistrationId,
            ShelterId = row.ShelterId!,
            Category = (ShelterCategory)row.Category,
            State = newState,
        });
        if (!backToGroup)
        {
            await offers.OfferToHeadAsync(change, bed, cancellationToken);
        }
        change.Record(await db.Shelters.FirstAsync(s => s.ShelterId == row.ShelterId, cancellationToken), await BedsOfAsync(row.ShelterId!, cancellationToken));
    }

    /// <summary>
    /// Tells the chain a placement was requested (PlacementRequested), with what became of it at once: a bed held
    /// (HELD) or a place on a waiting list (WAITLISTED). Staged in the request's own transaction, so it is told
    /// exactly when the hold or the waiting is committed, and a resubmitted request tells nothing again.
    /// </summary>
    private void AnnounceRequest(CapacityChange change, PlacementRow row, PlacementNeeds needs) => outbox.Add(new PlacementRequested
    {
        EventId = Guid.CreateVersion7().ToString(),
        OccurredAt = Timestamp.FromDateTime(change.Now),
        PlacementId = row.PlacementId,
        RegistrationId = row.RegistrationId,
        State = (PlacementState)row.State,
        WaitingList = (WaitingList)row.WaitingList,
        Urgency = needs.Urgency,
    });

    /// <summary>Where a page starts (the token is the count already handed out) and how long it is; problems added by field.</summary>
    private static (int Skip, int Size) Page(int pageSize, string pageToken, List<(string, string)> problems)
    {
        if (pageSize is < 0 or > 500)
        {
            problems.Add(("page_size", "must be 0 (default 50) to 500"));
        }
        var skip = 0;
        if (pageToken.Length > 0 && !int.TryParse(pageToken, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out skip))
        {
            problems.Add(("page_token", "is not one this service handed out"));
        }
        return (skip, pageSize == 0 ? 50 : pageSize);
    }

    /// <summary>One waiting list in order (longest waiting first), for CoMensha, who keeps the lists.</summary>
    public async Task<ListWaitingListResponse> ListWaitingAsync(ListWaitingListRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string, string)>();
        if (request.WaitingList == WaitingList.Unspecified || !System.Enum.IsDefined(request.WaitingList))
        {
            problems.Add(("waiting_list", "must name one of the three lists."));
        }
        var (skip, pageSize) = Page(request.PageSize, request.PageToken, problems);
        InvalidRequest.ThrowIfAny(problems);
        var list = (int)request.WaitingList;
        var waiting = db.Placements.AsNoTracking().Where(p => p.State == (int)PlacementState.Waitlisted && p.WaitingList == list);
        var total = await waiting.CountAsync(cancellationToken);
        var page = await waiting.OrderBy(p => p.RequestedAt).ThenBy(p => p.PlacementId).Skip(skip).Take(pageSize).ToListAsync(cancellationToken);
        var response = new ListWaitingListResponse { TotalWaiting = total };
        response.Entries.AddRange(page.Select((p, i) =>
        {
            var needs = PlacementNeeds.Parser.ParseFrom(p.Needs);
            return new WaitingListEntry
            {
                PlacementId = p.PlacementId,
                RegistrationId = p.RegistrationId,
                WaitingList = request.WaitingList,
                Category = (ShelterCategory)p.Category,
                Urgency = needs.Urgency,
                WaitingSince = PlacementRow.Stamp(p.RequestedAt),
                Position = skip + i + 1,
            };
        }));
        if (skip + page.Count < total)
        {
            response.NextPageToken = (skip + page.Count).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return response;
    }

    /// <summary>
    /// The placements <paramref name="partnerId"/> may read (the rule of <see cref="GetAsync"/>): CoMensha all, a shelter
    /// those in its own beds, a requester its own requests; longest requested first, optionally only some states. How a
    /// shelter finds the beds held in it for someone from a waiting list, which no answer of its own named.
    /// </summary>
    public async Task<ListPlacementsResponse> ListAsync(string partnerId, ListPlacementsRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string, string)>();
        if (request.StateFilter.Any(s => s == PlacementState.Unspecified || !System.Enum.IsDefined(s)))
        {
            problems.Add(("state_filter", "must name placement states"));
        }
        var (skip, pageSize) = Page(request.PageSize, request.PageToken, problems);
        InvalidRequest.ThrowIfAny(problems);
        var query = db.Placements.AsNoTracking();
        if (partnerId != Coordinator)
        {
            query = query.Where(p => p.RequestedBy == partnerId || p.ShelterId == partnerId);
        }
        if (request.StateFilter.Count > 0)
        {
            var states = request.StateFilter.Select(s => (int)s).Distinct().ToList();
            query = query.Where(p => states.Contains(p.State));
        }
        var page = await query.OrderBy(p => p.RequestedAt).ThenBy(p => p.PlacementId).Skip(skip).Take(pageSize + 1).ToListAsync(cancellationToken);
        var response = new ListPlacementsResponse();
        response.Placements.AddRange(page.Take(pageSize).Select(p => ToPlacement(p, partnerId)));
        if (page.Count > pageSize)
        {
            response.NextPageToken = (skip + pageSize).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return response;
    }

    private async Task<List<BedRow>> BedsOfAsync(string shelterId, CancellationToken cancellationToken)
    {
        // The tracked rows, changed ones included: the snapshot shows the beds as this change leaves them.
        await db.Beds.Where(b => b.ShelterId == shelterId).LoadAsync(cancellationToken);
        return db.Beds.Local.Where(b => b.ShelterId == shelterId).ToList();
    }

    /// <summary>
    /// The registry told something new of these registrations (RegistrationAdmissionFacts, RegistrationsMerged): their
    /// COSM requests that wait are decided again in one capacity change, and any bed held for them is recorded.
    /// </summary>
    public async Task ReconsiderAsync(IReadOnlyCollection<string> registrationIds, CancellationToken cancellationToken)
    {
        var cosm = (int)ShelterCategory.Cosm;
        // Looked for inside the capacity turn, not before it: a request deciding on the older facts at this moment
        // commits its turn first, so it is found here, or takes its turn after and reads these facts.
        await using var change = await board.BeginChangeAsync(cancellationToken);
        if (!await db.Placements.AnyAsync(p => p.State == (int)PlacementState.Waitlisted && p.Category == cosm && registrationIds.Contains(p.RegistrationId), cancellationToken))
        {
            await change.CommitWithoutCapacityAsync(cancellationToken);
            return;
        }
        var held = await offers.ReconsiderAsync(change, registrationIds, cancellationToken);
        if (held.Count == 0)
        {
            await change.CommitWithoutCapacityAsync(cancellationToken);
            return;
        }
        foreach (var shelterId in held.Select(b => b.ShelterId).Distinct(StringComparer.Ordinal))
        {
            await change.RecordAsync(await db.Shelters.FirstAsync(s => s.ShelterId == shelterId, cancellationToken), await BedsOfAsync(shelterId, cancellationToken), cancellationToken);
        }
        await change.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// The registry merged registrations (RegistrationsMerged): the merge is remembered, so a later request under a merged
    /// id is decided on the survivor's facts, and the open requests under a merged id move to the survivor. Returns the
    /// survivor. Staged in the caller's transaction (the inbox's).
    /// </summary>
    public async Task<string> FollowMergeAsync(RegistrationsMerged merged, CancellationToken cancellationToken)
    {
        // After any request deciding under one of these ids, and before the next: see TryRequestAsync.
        await board.WaitForTurnAsync(cancellationToken);
        var survivor = await SurvivorOfAsync(merged.SurvivingRegistrationId, cancellationToken);
        var ids = merged.MergedRegistrationIds.Where(id => id.Length > 0 && id != survivor).Distinct().ToList();
        foreach (var id in ids)
        {
            if (await db.RegistrationMerges.FirstOrDefaultAsync(m => m.MergedRegistrationId == id, cancellationToken) is { } known)
            {
                known.SurvivingRegistrationId = survivor;
            }
            else
            {
                db.RegistrationMerges.Add(new RegistrationMergeRow { MergedRegistrationId = id, SurvivingRegistrationId = survivor });
            }
        }
        foreach (var earlier in await db.RegistrationMerges.Where(m => ids.Contains(m.SurvivingRegistrationId)).ToListAsync(cancellationToken))
        {
            earlier.SurvivingRegistrationId = survivor;
        }
        var open = new[] { (int)PlacementState.Waitlisted, (int)PlacementState.Requested, (int)PlacementState.Held, (int)PlacementState.Placed };
        foreach (var placement in await db.Placements.Where(p => ids.Contains(p.RegistrationId) && open.Contains(p.State)).ToListAsync(cancellationToken))
        {
            placement.RegistrationId = survivor;
            placement.Version++;
        }
        return survivor;
    }

    /// <summary>The registration that carries the person now: the survivor when <paramref name="registrationId"/> was merged, else itself.</summary>
    private async Task<string> SurvivorOfAsync(string registrationId, CancellationToken cancellationToken)
    {
        var current = registrationId;
        // Merge rows point at the last survivor; the bound only guards against a cycle no registry would make.
        for (var hops = 0; hops < 16; hops++)
        {
            var next = await db.RegistrationMerges.Where(m => m.MergedRegistrationId == current).Select(m => m.SurvivingRegistrationId).FirstOrDefaultAsync(cancellationToken);
            if (next is null || next == current)
            {
                break;
            }
            current = next;
        }
        return current;
    }

    private static bool MayRead(string partnerId, PlacementRow row) =>
        partnerId == Coordinator || row.RequestedBy == partnerId || (row.ShelterId is not null && row.ShelterId == partnerId);

    private static NotFound NotVisible() => new("No such placement among those you may read.");

    private static List<(string Field, string Description)> Validate(RequestPlacementRequest request)
    {
        var problems = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.ClientRequestId) || request.ClientRequestId.Length > 128)
        {
            problems.Add(("client_request_id", "is required (up to 128 characters)."));
        }
        if (string.IsNullOrWhiteSpace(request.RegistrationId) || request.RegistrationId.Length > 128)
        {
            problems.Add(("registration_id", "is required: the CoMensha registration of the person."));
        }
        if (request.Needs is null)
        {
            problems.Add(("needs", "is required."));
        }
        else if (request.Needs.Category == ShelterCategory.Unspecified || !System.Enum.IsDefined(request.Needs.Category))
        {
            problems.Add(("needs.category", "must name the category of bed needed."));
        }
        if (request.Needs is not null)
        {
            problems.AddRange(WaitingLists.ValidateFallback(request.Needs));
        }
        if (request.ArrangementId.Length > 128)
        {
            problems.Add(("arrangement_id", "is at most 128 characters."));
        }
        return problems;
    }

    /// <summary>
    /// The placement as <paramref name="partnerId"/> may see it. Whether the person meets the COSM criteria, and which
    /// they fail (a minor, Dutch, an aangifte, an asylum procedure), are registry facts for CoMensha, who decides
    /// admission; the requester and the shelter learn only where the request stands.
    /// </summary>
    internal static Placement ToPlacement(PlacementRow row, string partnerId)
    {
        var placement = new Placement
        {
            PlacementId = row.PlacementId,
            RegistrationId = row.RegistrationId,
            State = (PlacementState)row.State,
            Needs = PlacementNeeds.Parser.ParseFrom(row.Needs),
            ShelterId = row.ShelterId ?? string.Empty,
            WaitingList = (WaitingList)row.WaitingList,
            RequestedBy = PartnerTypes.Of(row.RequestedBy),
            RequestedAt = PlacementRow.Stamp(row.RequestedAt),
            Version = row.Version,
        };
        if (partnerId == Coordinator)
        {
            placement.CosmEligible = row.CosmEligible;
            placement.IneligibilityReasons.AddRange(row.Ineligibility.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => (CosmIneligibility)int.Parse(r, System.Globalization.CultureInfo.InvariantCulture)));
        }
        if (row.PlacedAt is { } placedAt)
        {
            placement.PlacedAt = PlacementRow.Stamp(placedAt);
        }
        if (row.EndedAt is { } endedAt)
        {
            placement.EndedAt = PlacementRow.Stamp(endedAt);
        }
        if (row.HoldExpiresAt is { } expires)
        {
            placement.HoldExpiresAt = PlacementRow.Stamp(expires);
        }
        return placement;
    }

}
