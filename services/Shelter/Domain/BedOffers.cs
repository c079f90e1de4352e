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
/// <remarks>
/// All of this runs under the service-wide capacity turn, so the waiting requests are read once per change (one
/// query, their needs parsed once, the registry's facts for every waiter in one more query) and kept as the change
/// moves them; every offer, move and count in the same change works on those rows, not on new queries.
/// </remarks>
public sealed class BedOffers(ShelterDbContext db, EventOutbox<ShelterDbContext> outbox, IOptions<PlacementOptions> options)
{
    private CapacityChange? _loadedFor;
    private List<PlacementRow> _waiting = [];
    private readonly Dictionary<string, PlacementNeeds> _needs = new(StringComparer.Ordinal);
    private Dictionary<string, AdmissionFactsRow>? _facts;

    /// <summary>Holds <paramref name="bed"/> for the first waiting request it suits, when it has a free place.</summary>
    /// <returns>True when the bed was held for someone.</returns>
    internal async Task<bool> OfferToHeadAsync(CapacityChange change, BedRow bed, CancellationToken cancellationToken)
    {
        if (bed.Total - bed.Occupied - bed.Held <= 0)
        {
            return false;
        }
        var cosm = (int)ShelterCategory.Cosm;
        await LoadAsync(change, cancellationToken);
        // Those the bed may suit (a COSM request waits for other beds when not admitted); WaitingLists.Suits decides.
        var waiting = _waiting
            .Where(p => p.State == (int)PlacementState.Waitlisted && (p.Category == bed.Category || p.Category == cosm) && WaitingLists.Suits(bed.Category, p))
            .ToList();
        if (waiting.Count == 0)
        {
            return false;
        }
        var secured = (await db.Shelters.AsNoTracking().FirstAsync(s => s.ShelterId == bed.ShelterId, cancellationToken)).Secured;
        if (bed.Category == cosm || !secured)
        {
            await LoadFactsAsync(cancellationToken);
        }
        foreach (var candidate in waiting)
        {
            var needs = NeedsOf(candidate);
            if (!secured && ProtectedShelter.SecuredOnly(needs, _facts!.GetValueOrDefault(candidate.RegistrationId)))
            {
                // Under acute threat, or a minor: only a secured shelter will do; the next on the list may take this bed.
                continue;
            }
            if (bed.Category == cosm)
            {
                // Admitted when it joined the list, perhaps weeks ago: the registry's facts may have changed since
                // (an aangifte made, a reflection period ended). Decided again on what the registry says now.
                if (!_facts!.TryGetValue(candidate.RegistrationId, out var facts))
                {
                    // The registry has not told of this registration (yet), or closed it: it waits for CoMensha's review.
                    continue;
                }
                var refused = CosmAdmission.Check(facts);
                if (refused.Count > 0)
                {
                    Move(change, candidate, needs, refused);
                    continue;
                }
                candidate.CosmEligible = true;
                candidate.Ineligibility = string.Empty;
            }
            Hold(change, bed, candidate);
            return true;
        }
        return false;
    }

    /// <summary>
    /// The registry told something new of these registrations (their facts, or a merge): their COSM requests waiting
    /// on a list are decided again. One admitted is held a free COSM bed when there is one, as a new request would be;
    /// one refused moves to the list it now belongs on, keeping its turn. Returns the beds it held, for the caller to
    /// record as the change's capacity.
    /// </summary>
    internal async Task<List<BedRow>> ReconsiderAsync(CapacityChange change, IReadOnlyCollection<string> registrationIds, CancellationToken cancellationToken)
    {
        var held = new List<BedRow>();
        await LoadAsync(change, cancellationToken);
        var cosm = (int)ShelterCategory.Cosm;
        var requests = _waiting.Where(p => p.State == (int)PlacementState.Waitlisted && p.Category == cosm && registrationIds.Contains(p.RegistrationId)).ToList();
        if (requests.Count == 0)
        {
            return held;
        }
        await LoadFactsAsync(cancellationToken);
        foreach (var request in requests)
        {
            if (!_facts!.TryGetValue(request.RegistrationId, out var facts))
            {
                continue;
            }
            var needs = NeedsOf(request);
            var refused = CosmAdmission.Check(facts);
            if (refused.Count > 0)
            {
                if (request.WaitingList == (int)WaitingList.CosmEligible || !request.Ineligibility.Equals(Reasons(refused), StringComparison.Ordinal))
                {
                    Move(change, request, needs, refused);
                }
                continue;
            }
            if (request.WaitingList != (int)WaitingLists.For(needs, notAdmittedToCosm: false))
            {
                // Admitted again (a refusal the registry corrected): back on the COSM list, in its old turn.
                Announce(change, request, joined: false);
                request.WaitingList = (int)WaitingLists.For(needs, notAdmittedToCosm: false);
                Announce(change, request, joined: true);
                request.Version++;
            }
            else if (!request.CosmEligible)
            {
                request.Version++;
            }
            request.CosmEligible = true;
            request.Ineligibility = string.Empty;
            if (request.WaitingList != (int)WaitingList.CosmEligible)
            {
                // Waits on the asylum-reception list: no COSM bed is offered from there.
                continue;
            }
            var secured = ProtectedShelter.SecuredOnly(needs, facts) ? await db.Shelters.Where(s => s.Secured).Select(s => s.ShelterId).ToListAsync(cancellationToken) : null;
            var bed = (await db.Beds.Where(b => b.Category == cosm && b.Total - b.Occupied - b.Held > 0).ToListAsync(cancellationToken))
                .Where(b => b.Total - b.Occupied - b.Held > 0 && (secured is null || secured.Contains(b.ShelterId)))
                .OrderByDescending(b => b.Total - b.Occupied - b.Held)
                .ThenBy(b => b.ShelterId, StringComparer.Ordinal)
                .FirstOrDefault();
            if (bed is not null)
            {
                Hold(change, bed, request);
                held.Add(bed);
            }
        }
        return held;
    }

    /// <summary>
    /// A hold offered from a waiting list ran out unconfirmed: the person goes back on that list, in the turn they had
    /// (requested_at is kept), so the next bed that suits them is theirs again.
    /// </summary>
    internal async Task ReturnToListAsync(CapacityChange change, PlacementRow row, CancellationToken cancellationToken)
    {
        await LoadAsync(change, cancellationToken);
        row.State = (int)PlacementState.Waitlisted;
        row.WaitingList = row.OfferedFrom;
        row.OfferedFrom = 0;
        row.ShelterId = null;
        row.HoldExpiresAt = null;
        row.Version++;
        if (!_waiting.Contains(row))
        {
            _waiting.Add(row);
            _waiting.Sort((a, b) => a.RequestedAt != b.RequestedAt ? a.RequestedAt.CompareTo(b.RequestedAt) : string.CompareOrdinal(a.PlacementId, b.PlacementId));
        }
        Announce(change, row, joined: true);
    }

    private void Hold(CapacityChange change, BedRow bed, PlacementRow candidate)
    {
        bed.Held++;
        candidate.State = (int)PlacementState.Held;
        candidate.ShelterId = bed.ShelterId;
        // The bed held, which for a COSM request not admitted is its fallback category: confirming or releasing
        // the placement finds its bed by shelter and category.
        candidate.Category = bed.Category;
        candidate.HoldExpiresAt = change.Now + options.Value.HoldDuration;
        candidate.Version++;
        Announce(change, candidate, joined: false);
        candidate.OfferedFrom = candidate.WaitingList;
        candidate.WaitingList = (int)WaitingList.Unspecified;
    }

    /// <summary>A request no longer admitted to COSM leaves the COSM list for the one it now belongs on, keeping its turn (requested_at).</summary>
    private void Move(CapacityChange change, PlacementRow row, PlacementNeeds needs, List<CosmIneligibility> refused)
    {
        var list = (int)WaitingLists.For(needs, notAdmittedToCosm: true);
        var moves = list != row.WaitingList;
        if (moves)
        {
            Announce(change, row, joined: false);
        }
        row.WaitingList = list;
        row.CosmEligible = false;
        row.Ineligibility = Reasons(refused);
        row.Version++;
        if (moves)
        {
            Announce(change, row, joined: true);
        }
    }

    /// <summary>Tells the chain a list changed (WaitingListChanged), with how many wait on it after the change.</summary>
    internal async Task AnnounceWaitingListAsync(CapacityChange change, PlacementRow row, bool joined, CancellationToken cancellationToken)
    {
        await LoadAsync(change, cancellationToken);
        Announce(change, row, joined);
    }

    private void Announce(CapacityChange change, PlacementRow row, bool joined)
    {
        var list = row.WaitingList;
        // Counted on the rows this change loaded and moved: what the list holds once the change commits.
        var others = _waiting.Count(p => p.State == (int)PlacementState.Waitlisted && p.WaitingList == list && p.PlacementId != row.PlacementId);
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

    /// <summary>Every waiting request, longest waiting first, once per change (tracked: the change's moves are saved with it).</summary>
    private async Task LoadAsync(CapacityChange change, CancellationToken cancellationToken)
    {
        if (ReferenceEquals(_loadedFor, change))
        {
            return;
        }
        _waiting = await db.Placements
            .Where(p => p.State == (int)PlacementState.Waitlisted)
            .OrderBy(p => p.RequestedAt).ThenBy(p => p.PlacementId)
            .ToListAsync(cancellationToken);
        _needs.Clear();
        _facts = null;
        _loadedFor = change;
    }

    /// <summary>
    /// The registry's open facts of every request waiting, in one query: COSM admission is decided on them, and which
    /// waiting person is a minor, whom an unsecured bed does not suit (<see cref="ProtectedShelter"/>).
    /// </summary>
    private async Task LoadFactsAsync(CancellationToken cancellationToken)
    {
        if (_facts is not null)
        {
            return;
        }
        var registrations = _waiting.Select(p => p.RegistrationId).Distinct().ToList();
        _facts = registrations.Count == 0
            ? []
            : await db.AdmissionFacts.AsNoTracking().Where(f => registrations.Contains(f.RegistrationId) && !f.Closed).ToDictionaryAsync(f => f.RegistrationId, StringComparer.Ordinal, cancellationToken);
    }

    private PlacementNeeds NeedsOf(PlacementRow row)
    {
        if (!_needs.TryGetValue(row.PlacementId, out var needs))
        {
            needs = PlacementNeeds.Parser.ParseFrom(row.Needs);
            _needs[row.PlacementId] = needs;
        }
        return needs;
    }

    private static string Reasons(List<CosmIneligibility> refused) => string.Join(",", refused.Select(r => (int)r));
}
