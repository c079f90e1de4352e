using Chain.Events.V1;
using Chain.Registry.V1;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// The registry records on a registration where the person is placed now, from what the shelter service
/// tells the chain (BRIEF.md, data a record holds: "shelter placement and waiting list"). Confirmations and
/// releases come on two queues and may arrive in either order, or twice under new message ids: a release is
/// remembered, so a confirmation of a released placement records nothing, and an older confirmation never
/// replaces a newer placement. Nothing here saves: the consumer's inbox transaction does.
/// </summary>
public sealed class ShelterPlacements(RegistryDbContext db, RegistrationStore store)
{
    /// <summary>How many merges are followed from the registration an event names (a merged registration points at its survivor).</summary>
    private const int MaxMergeHops = 16;

    /// <returns>False when the event names no registration kept here; nothing is recorded then.</returns>
    public async Task<bool> OnConfirmedAsync(PlacementConfirmed confirmed, CancellationToken cancellationToken)
    {
        var chain = await ChainAsync(confirmed.RegistrationId, cancellationToken);
        if (chain.Count == 0)
        {
            return false;
        }
        if (await db.PlacementReleases.AnyAsync(r => r.PlacementId == confirmed.PlacementId, cancellationToken))
        {
            return true; // released already: this confirmation came late
        }
        // A merged registration's person lives on in the survivor: the placement is recorded there.
        var (row, registration) = chain[^1];
        var since = confirmed.OccurredAt ?? store.Now();
        if (registration.ShelterPlacement is { } current && (current.PlacementId == confirmed.PlacementId || current.Since > since))
        {
            return true; // recorded already, or a later placement is
        }
        registration.ShelterPlacement = new ShelterPlacement { ShelterId = confirmed.ShelterId, PlacementId = confirmed.PlacementId, Since = since };
        store.Save(row, registration);
        return true;
    }

    /// <returns>False when the event names no registration kept here; nothing is recorded then.</returns>
    public async Task<bool> OnReleasedAsync(PlacementReleased released, CancellationToken cancellationToken)
    {
        var chain = await ChainAsync(released.RegistrationId, cancellationToken);
        if (chain.Count == 0)
        {
            return false;
        }
        if (!await db.PlacementReleases.AnyAsync(r => r.PlacementId == released.PlacementId, cancellationToken))
        {
            db.PlacementReleases.Add(new PlacementReleaseRow { PlacementId = released.PlacementId, ReleasedAt = (released.OccurredAt ?? store.Now()).ToDateTime() });
        }
        foreach (var (row, registration) in chain.Where(r => r.Registration.ShelterPlacement?.PlacementId == released.PlacementId))
        {
            registration.ShelterPlacement = null;
            store.Save(row, registration);
        }
        return true;
    }

    /// <summary>The registration named and, when it was merged, each survivor after it; empty when none is kept here.</summary>
    private async Task<List<(RegistrationRow Row, Registration Registration)>> ChainAsync(string registrationId, CancellationToken cancellationToken)
    {
        var chain = new List<(RegistrationRow, Registration)>();
        var id = registrationId;
        while (id.Length > 0 && chain.Count < MaxMergeHops
            && await db.Registrations.FirstOrDefaultAsync(r => r.RegistrationId == id, cancellationToken) is { } row)
        {
            var registration = Registration.Parser.ParseFrom(row.Data);
            chain.Add((row, registration));
            id = registration is { Status: VictimStatus.Closed, ClosureReason: RegistrationClosureReason.Merged } ? registration.MergedIntoRegistrationId : "";
        }
        return chain;
    }
}
