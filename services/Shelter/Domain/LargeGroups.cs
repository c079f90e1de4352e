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
/// Temporary shelter for a large group (BRIEF.md, "Shelter (COSM)": "large groups: CoMensha contacted before an
/// inspection, temporary shelter up to 14 days"). Before an action a partner announces the group it expects; the
/// service answers with the places it holds for it, per shelter and category, found among the free beds (the
/// action's municipality first). The places count as reserved, not free, from the answer until the shelter
/// period ends (expected_at + requested_duration; from the answer to that end at most 14 days), then they go back, or
/// earlier when the announcer or CoMensha ends the arrangement. A placement the announcer or CoMensha asks for under
/// the arrangement takes one of its places (<see cref="Placements"/>), so the people found in the action get the beds held for them.
/// <para>
/// Places are held inside a capacity change (<see cref="CapacityBoard.BeginChangeAsync"/>), the same one-at-a-time
/// turn placements take their bed in: a group and a placement asking for the last beds are decided one after the
/// other, so a bed is never given twice, on PostgreSQL and on SQLite alike.
/// </para>
/// </summary>
public sealed class LargeGroups(
    ShelterDbContext db,
    CapacityBoard board,
    BedOffers offers,
    EventOutbox<ShelterDbContext> outbox,
    TimeProvider clock,
    IOptions<LargeGroupOptions> options)
{
    public async Task<(LargeGroupArrangement Arrangement, bool Duplicate)> RequestAsync(string partnerId, RequestLargeGroupShelterRequest request, CancellationToken cancellationToken)
    {
        InvalidRequest.ThrowIfAny(LargeGroupRules.Validate(request));
        // The same request may race in on another connection and win (its client_request_id is taken): answered as a resubmission.
        return await db.FirstWriterWinsAsync(() => TryRequestAsync(partnerId, request, cancellationToken));
    }

    /// <summary>The arrangement as it is now, for the partner that announced it and for CoMensha; anyone else learns nothing of it.</summary>
    public async Task<LargeGroupArrangement> GetAsync(string partnerId, string arrangementId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(arrangementId))
        {
            throw new InvalidRequest("arrangement_id is required.", [("arrangement_id", "is required")]);
        }
        var row = await db.LargeGroups.AsNoTracking().FirstOrDefaultAsync(g => g.ArrangementId == arrangementId, cancellationToken);
        return row is not null && MayUse(partnerId, row)
            ? await ArrangementAsync(row, cancellationToken)
            : throw new NotFound("No such large-group arrangement among those you may read.");
    }

    /// <summary>
    /// Ends an arrangement before its shelter period is over: the places no placement took go back at once, as at the
    /// period's end (<see cref="ReleaseAsync"/>). For the announcer and CoMensha; anyone else learns nothing of it. An
    /// arrangement that holds nothing (ended, or never arranged) is answered as it is.
    /// </summary>
    public async Task<LargeGroupArrangement> EndAsync(string partnerId, string arrangementId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(arrangementId))
        {
            throw new InvalidRequest("arrangement_id is required.", [("arrangement_id", "is required")]);
        }
        var known = await db.LargeGroups.AsNoTracking().FirstOrDefaultAsync(g => g.ArrangementId == arrangementId, cancellationToken);
        if (known is null || !MayUse(partnerId, known))
        {
            throw new NotFound("No such large-group arrangement among those you may read.");
        }
        if (!IsHolding(known))
        {
            return await ArrangementAsync(known, cancellationToken);
        }
        await using var change = await board.BeginChangeAsync(cancellationToken);
        var row = await db.LargeGroups.FirstAsync(g => g.ArrangementId == arrangementId, cancellationToken);
        if (!IsHolding(row))
        {
            // Ended by its period or another call while this one waited for its turn.
            await change.CommitWithoutCapacityAsync(cancellationToken);
        }
        else
        {
            await ReleaseAsync(change, row, cancellationToken);
            await change.CommitAsync(cancellationToken);
        }
        return await ArrangementAsync(row, cancellationToken);
    }

    /// <summary>
    /// Takes one of the places <paramref name="arrangementId"/> holds in <paramref name="category"/> for a placement, inside
    /// its capacity change: the place leaves the group's allocation and the bed stays reserved, now for the placement.
    /// Returns the bed, or null when the arrangement has no place of that category left. Only the announcer and CoMensha
    /// place under an arrangement; for anyone else it does not exist.
    /// </summary>
    internal static async Task<BedRow?> TakePlaceAsync(ShelterDbContext db, string partnerId, string arrangementId, int category, string preferredShelterId, CancellationToken cancellationToken)
    {
        var row = await db.LargeGroups.AsNoTracking().FirstOrDefaultAsync(g => g.ArrangementId == arrangementId, cancellationToken);
        if (row is null || !MayUse(partnerId, row))
        {
            throw new NotFound("No such large-group arrangement among those you may read.");
        }
        if (!IsHolding(row))
        {
            throw new NotNow($"The large-group arrangement is {(LargeGroupState)row.State} and holds no places; request the placement without arrangement_id.");
        }
        var allocation = (await db.LargeGroupAllocations.Where(a => a.ArrangementId == arrangementId && a.Category == category && a.Places > 0).ToListAsync(cancellationToken))
            .OrderByDescending(a => a.ShelterId == preferredShelterId)
            .ThenByDescending(a => a.Places)
            .ThenBy(a => a.ShelterId, StringComparer.Ordinal)
            .FirstOrDefault();
        if (allocation is null)
        {
            return null;
        }
        allocation.Places--;
        return await db.Beds.FirstAsync(b => b.ShelterId == allocation.ShelterId && b.Category == category, cancellationToken);
    }

    /// <summary>
    /// Gives a place taken by <see cref="TakePlaceAsync"/> back to its arrangement, inside the capacity change that ends the
    /// hold on it; false when the arrangement no longer holds places (its period or the announcer ended it), and the bed
    /// then goes back as any other.
    /// </summary>
    internal static async Task<bool> ReturnPlaceAsync(ShelterDbContext db, string arrangementId, string shelterId, int category, CancellationToken cancellationToken)
    {
        var row = await db.LargeGroups.AsNoTracking().FirstOrDefaultAsync(g => g.ArrangementId == arrangementId, cancellationToken);
        if (row is null || !IsHolding(row))
        {
            return false;
        }
        var allocation = await db.LargeGroupAllocations.FirstAsync(a => a.ArrangementId == arrangementId && a.ShelterId == shelterId && a.Category == category, cancellationToken);
        allocation.Places++;
        return true;
    }

    private static bool MayUse(string partnerId, LargeGroupRow row) => row.RequestedBy == partnerId || partnerId == Placements.Coordinator;

    private static bool IsHolding(LargeGroupRow row) => row.State is (int)LargeGroupState.Arranged or (int)LargeGroupState.PartiallyArranged;

    private async Task<(LargeGroupArrangement, bool)> TryRequestAsync(string partnerId, RequestLargeGroupShelterRequest request, CancellationToken cancellationToken)
    {
        if (await db.LargeGroups.AsNoTracking().FirstOrDefaultAsync(g => g.RequestedBy == partnerId && g.ClientRequestId == request.ClientRequestId, cancellationToken) is { } known)
        {
            return known.Request.AsSpan().SequenceEqual(request.ToByteArray())
                ? (await ArrangementAsync(known, cancellationToken), true)
                : throw new AlreadyExists("client_request_id was already used for a different large-group request; use a new id for a new request.");
        }
        InvalidRequest.ThrowIfAny(LargeGroupRules.ValidateTiming(request, clock.GetUtcNow(), options.Value));

        await using var change = await board.BeginChangeAsync(cancellationToken);
        var categories = request.ExpectedComposition.Select(g => (int)g.Category).ToList();
        var free = await db.Beds.Where(b => categories.Contains(b.Category) && b.Total - b.Occupied - b.Held > 0).ToListAsync(cancellationToken);
        var shelterIds = free.Select(b => b.ShelterId).Distinct().ToList();
        var shelters = await db.Shelters.Where(s => shelterIds.Contains(s.ShelterId)).ToDictionaryAsync(s => s.ShelterId, StringComparer.Ordinal, cancellationToken);
        var municipality = request.Municipality?.Code ?? string.Empty;

        var row = new LargeGroupRow
        {
            ArrangementId = $"lga-{Guid.CreateVersion7():N}",
            RequestedBy = partnerId,
            ClientRequestId = request.ClientRequestId,
            Request = request.ToByteArray(),
            RequestedAt = change.Now,
            StartsAt = PlacementRow.Moment(request.ExpectedAt.ToDateTimeOffset()),
            EndsAt = PlacementRow.Moment(request.ExpectedAt.ToDateTimeOffset() + request.RequestedDuration.ToTimeSpan()),
        };
        var allocations = new List<LargeGroupAllocationRow>();
        var expected = 0;
        foreach (var group in request.ExpectedComposition)
        {
            expected += group.Persons;
            var remaining = group.Persons;
            // The action's municipality first; then the shelters with the most room, so the group is split over as few as may be.
            var candidates = free.Where(b => b.Category == (int)group.Category)
                .OrderByDescending(b => municipality.Length > 0 && shelters[b.ShelterId].MunicipalityCode == municipality)
                .ThenByDescending(b => b.Total - b.Occupied - b.Held)
                .ThenBy(b => b.ShelterId, StringComparer.Ordinal)
                .ToList();
            foreach (var bed in candidates)
            {
                if (remaining == 0)
                {
                    break;
                }
                var places = Math.Min(remaining, bed.Total - bed.Occupied - bed.Held);
                bed.Held += places;
                remaining -= places;
                allocations.Add(new LargeGroupAllocationRow { ArrangementId = row.ArrangementId, ShelterId = bed.ShelterId, Category = bed.Category, Places = places });
            }
        }
        var held = allocations.Sum(a => a.Places);
        row.State = (int)(held == expected ? LargeGroupState.Arranged : held == 0 ? LargeGroupState.NotArranged : LargeGroupState.PartiallyArranged);
        db.LargeGroups.Add(row);
        db.LargeGroupAllocations.AddRange(allocations);
        var arrangement = ToArrangement(row, request, allocations);
        if (held == 0)
        {
            // Nothing free to hold: the answer says so, and capacity did not change.
            await change.CommitWithoutCapacityAsync(cancellationToken);
            return (arrangement, false);
        }
        outbox.Add(new LargeGroupHeld
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Timestamp.FromDateTime(change.Now),
            ArrangementId = row.ArrangementId,
            State = arrangement.State,
            Allocations = { arrangement.Allocations },
            PersonsExpected = expected,
            StartsAt = arrangement.StartsAt,
            EndsAt = arrangement.EndsAt,
        });
        foreach (var shelterId in allocations.Select(a => a.ShelterId).Distinct().Order(StringComparer.Ordinal))
        {
            await change.RecordAsync(shelters[shelterId], await BedsOfAsync(shelterId, cancellationToken), cancellationToken);
        }
        await change.CommitAsync(cancellationToken);
        return (arrangement, false);
    }

    /// <summary>Gives back the places of every arrangement whose shelter period is over by now; returns how many. Each release is its own capacity change.</summary>
    public async Task<int> ReleaseEndedAsync(CancellationToken cancellationToken)
    {
        var released = 0;
        var holding = new[] { (int)LargeGroupState.Arranged, (int)LargeGroupState.PartiallyArranged };
        while (true)
        {
            // Looked for first, outside any change: the job runs every few seconds on every replica, and taking the
            // service-wide capacity turn to find nothing would make every placement and report wait for it.
            var now = PlacementRow.Moment(clock.GetUtcNow());
            if (!await db.LargeGroups.AnyAsync(g => holding.Contains(g.State) && g.EndsAt <= now, cancellationToken))
            {
                return released;
            }
            await using var change = await board.BeginChangeAsync(cancellationToken);
            var ended = await db.LargeGroups
                .Where(g => holding.Contains(g.State) && g.EndsAt <= change.Now)
                .OrderBy(g => g.EndsAt).ThenBy(g => g.ArrangementId)
                .FirstOrDefaultAsync(cancellationToken);
            if (ended is null)
            {
                return released;
            }
            await ReleaseAsync(change, ended, cancellationToken);
            await change.CommitAsync(cancellationToken);
            released++;
        }
    }

    /// <summary>
    /// Gives the group's places back, tells the chain (LargeGroupReleased), and offers each freed bed to whoever waits
    /// longest for that kind of bed, as a released placement's bed is (<see cref="BedOffers.OfferToHeadAsync"/>).
    /// </summary>
    private async Task ReleaseAsync(CapacityChange change, LargeGroupRow row, CancellationToken cancellationToken)
    {
        var allocations = await db.LargeGroupAllocations.AsNoTracking().Where(a => a.ArrangementId == row.ArrangementId)
            .OrderBy(a => a.ShelterId).ThenBy(a => a.Category).ToListAsync(cancellationToken);
        foreach (var allocation in allocations)
        {
            var bed = await db.Beds.FirstAsync(b => b.ShelterId == allocation.ShelterId && b.Category == allocation.Category, cancellationToken);
            bed.Held = Math.Max(0, bed.Held - allocation.Places);
            // Each offer works on the waiting requests as the last one left them (BedOffers keeps them for the change),
            // and the change saves them all when it commits, as a capacity report's offers are.
            while (await offers.OfferToHeadAsync(change, bed, cancellationToken))
            {
            }
        }
        row.State = (int)LargeGroupState.Ended;
        row.ReleasedAt = change.Now;
        outbox.Add(new LargeGroupReleased
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Timestamp.FromDateTime(change.Now),
            ArrangementId = row.ArrangementId,
            State = LargeGroupState.Ended,
            Allocations = { allocations.Select(ToAllocation) },
        });
        foreach (var shelterId in allocations.Select(a => a.ShelterId).Distinct().Order(StringComparer.Ordinal))
        {
            var shelter = await db.Shelters.FirstAsync(s => s.ShelterId == shelterId, cancellationToken);
            await change.RecordAsync(shelter, await BedsOfAsync(shelterId, cancellationToken), cancellationToken);
        }
    }

    private async Task<LargeGroupArrangement> ArrangementAsync(LargeGroupRow row, CancellationToken cancellationToken)
    {
        var allocations = await db.LargeGroupAllocations.AsNoTracking().Where(a => a.ArrangementId == row.ArrangementId).ToListAsync(cancellationToken);
        return ToArrangement(row, RequestLargeGroupShelterRequest.Parser.ParseFrom(row.Request), allocations);
    }

    private async Task<List<BedRow>> BedsOfAsync(string shelterId, CancellationToken cancellationToken)
    {
        // The tracked rows, changed ones included: the snapshot shows the beds as this change leaves them.
        await db.Beds.Where(b => b.ShelterId == shelterId).LoadAsync(cancellationToken);
        return db.Beds.Local.Where(b => b.ShelterId == shelterId).ToList();
    }

    private static LargeGroupArrangement ToArrangement(LargeGroupRow row, RequestLargeGroupShelterRequest request, IEnumerable<LargeGroupAllocationRow> allocations)
    {
        var arrangement = new LargeGroupArrangement
        {
            ArrangementId = row.ArrangementId,
            State = (LargeGroupState)row.State,
            OperationReference = request.OperationReference,
            Municipality = request.Municipality,
            Form = request.Form,
            ExpectedComposition = { request.ExpectedComposition },
            ExpectedAt = request.ExpectedAt,
            RequestedDuration = request.RequestedDuration,
            Allocations = { allocations.OrderBy(a => a.Category).ThenBy(a => a.ShelterId, StringComparer.Ordinal).Select(ToAllocation) },
            RequestedBy = PartnerTypes.Of(row.RequestedBy),
            StartsAt = PlacementRow.Stamp(row.StartsAt),
            EndsAt = PlacementRow.Stamp(row.EndsAt),
            RequestedAt = PlacementRow.Stamp(row.RequestedAt),
        };
        if (row.ReleasedAt is { } releasedAt)
        {
            arrangement.ReleasedAt = PlacementRow.Stamp(releasedAt);
        }
        return arrangement;
    }

    private static GroupAllocation ToAllocation(LargeGroupAllocationRow row) =>
        new() { ShelterId = row.ShelterId, Category = (ShelterCategory)row.Category, Places = row.Places };

}
