using Chain.Events.V1;
using Chain.Shelter.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Shelter.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// A bed that becomes free goes to whoever waits longest for that kind of bed: it is held for the first on the
/// matching list that the bed suits. Every change that frees a bed offers it here, inside its own capacity change
/// (a release, a large group's places given back, a report with more free beds). Source: seeds/001…txt L7986–7988
/// (CoMensha's waiting lists, "om in beeld te krijgen voor welke vorm van opvang een wachtlijst bestaat").
/// </summary>
public sealed class BedOffers(ShelterDbContext db, EventOutbox<ShelterDbContext> outbox, IOptions<PlacementOptions> options)
{
    /// <summary>Holds <paramref name="bed"/> for the first waiting request it suits, when it has a free place.</summary>
    /// <returns>True when the bed was held for someone.</returns>
    internal async Task<bool> OfferToHeadAsync(CapacityChange change, BedRow bed, CancellationToken cancellationToken)
    {
        if (bed.Total - bed.Occupied - bed.Held <= 0)
        {
            return false;
        }
        var cosm = (int)ShelterCategory.Cosm;
        // Those the bed may suit (a COSM request waits for other beds when not admitted); WaitingLists.Suits decides.
        var waiting = (await db.Placements
            .Where(p => p.State == (int)PlacementState.Waitlisted && (p.Category == bed.Category || p.Category == cosm))
            .OrderBy(p => p.RequestedAt).ThenBy(p => p.PlacementId)
            .ToListAsync(cancellationToken))
            .Where(p => WaitingLists.Suits(bed.Category, p));
        var secured = (await db.Shelters.AsNoTracking().FirstAsync(s => s.ShelterId == bed.ShelterId, cancellationToken)).Secured;
        foreach (var candidate in waiting)
        {
            var needs = PlacementNeeds.Parser.ParseFrom(candidate.Needs);
            if (needs.SecuredRequired && !secured)
            {
                // Under acute threat: only a secured shelter will do; the next on the list may take this bed.
                continue;
            }
            if (bed.Category == cosm)
            {
                // Admitted when it joined the list, perhaps weeks ago: the registry's facts may have changed since
                // (an aangifte made, a reflection period ended). Decided again on what the registry says now.
                var facts = await db.AdmissionFacts.AsNoTracking().FirstOrDefaultAsync(f => f.RegistrationId == candidate.RegistrationId && !f.Closed, cancellationToken);
                if (facts is null)
                {
                    // The registry has not told of this registration (yet), or closed it: it waits for CoMensha's review.
                    continue;
                }
                var refused = CosmAdmission.Check(facts);
                if (refused.Count > 0)
                {
                    await MoveAsync(change, candidate, needs, refused, cancellationToken);
                    continue;
                }
                candidate.CosmEligible = true;
                candidate.Ineligibility = string.Empty;
            }
            bed.Held++;
            candidate.State = (int)PlacementState.Held;
            candidate.ShelterId = bed.ShelterId;
            // The bed held, which for a COSM request not admitted is its fallback category: confirming or releasing
            // the placement finds its bed by shelter and category.
            candidate.Category = bed.Category;
            candidate.HoldExpiresAt = change.Now + options.Value.HoldDuration;
            candidate.Version++;
            await AnnounceWaitingListAsync(change, candidate, joined: false, cancellationToken);
            candidate.WaitingList = (int)WaitingList.Unspecified;
            return true;
        }
        return false;
    }

    /// <summary>A request no longer admitted to COSM leaves the COSM list for the one it now belongs on, keeping its turn (requested_at).</summary>
    private async Task MoveAsync(CapacityChange change, PlacementRow row, PlacementNeeds needs, List<CosmIneligibility> refused, CancellationToken cancellationToken)
    {
        await AnnounceWaitingListAsync(change, row, joined: false, cancellationToken);
        row.WaitingList = (int)WaitingLists.For(needs, notAdmittedToCosm: true);
        row.CosmEligible = false;
        row.Ineligibility = string.Join(",", refused.Select(r => (int)r));
        row.Version++;
        await AnnounceWaitingListAsync(change, row, joined: true, cancellationToken);
        // Stored now, inside the change: the next count of either list reads it as this move left it.
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Tells the chain a list changed (WaitingListChanged), with how many wait on it after the change.</summary>
    internal async Task AnnounceWaitingListAsync(CapacityChange change, PlacementRow row, bool joined, CancellationToken cancellationToken)
    {
        var list = row.WaitingList;
        var others = await db.Placements.CountAsync(p => p.State == (int)PlacementState.Waitlisted && p.WaitingList == list && p.PlacementId != row.PlacementId, cancellationToken);
        outbox.Add(new WaitingListChanged
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Timestamp.FromDateTime(change.Now),
            WaitingList = (WaitingList)list,
            PlacementId = row.PlacementId,
            Joined = joined,
            TotalWaiting = others + (joined ? 1 : 0),
        });
    }
}
