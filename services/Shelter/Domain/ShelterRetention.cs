using Chain.Shelter.V1;
using Ketenmesh.Hosting;
using Ketenmesh.Shelter.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// How long the shelter service keeps what it no longer works with (section Shelter:Retention). A placement names a
/// registration, and with it a (possible) victim of trafficking: under the AVG it is kept only as long as its purpose,
/// finding and giving a bed, needs it (storage limitation, art. 5(1)(e)). The registry keeps the lasting record of a
/// placement on the registration, and CoMensha's national registration is there, not here.
/// </summary>
public sealed class ShelterRetentionOptions
{
    /// <summary>
    /// A stay that ended (ENDED): the shelter and CoMensha still read it back for the year's reporting, questions
    /// about the stay and a return to the shelter soon after; after a year the registry's record is enough.
    /// </summary>
    public TimeSpan EndedPlacementRetention { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// A request that never became a stay (EXPIRED, DECLINED, CANCELLED): needed only to answer a retried request
    /// and a late read, so it goes once those are done with.
    /// </summary>
    public TimeSpan UnplacedPlacementRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// The registry's admission facts of a registration it closed: a closed registration is admitted to nothing
    /// (COSM admission reads only open ones), so the row is kept only so that older facts arriving late
    /// (other queues, redelivery) cannot reopen it; after this, no such message is still under way.
    /// </summary>
    public TimeSpan ClosedAdmissionFactsRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// A large-group arrangement whose shelter period is over (ENDED, or NOT_ARRANGED and past its end): it names a
    /// police or inspection action; kept for the action's evaluation, then gone. It counts places, not people.
    /// </summary>
    public TimeSpan EndedLargeGroupRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often to purge; zero or less switches the purge off.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>
/// Deletes placements, admission facts and large-group arrangements past their retention (<see cref="ShelterRetentionOptions"/>),
/// at start and then every <see cref="ShelterRetentionOptions.PurgeInterval"/>. Only rows that no longer change are
/// deleted (a placement or arrangement in a final state, facts of a closed registration), so the purge needs no
/// capacity turn and holds no bed.
/// </summary>
public sealed class ShelterPurge(IServiceScopeFactory scopes, TimeProvider clock, ILogger<ShelterPurge> logger, IOptions<ShelterRetentionOptions> options)
    : PeriodicJob(scopes, clock, logger)
{
    private static readonly int[] Unplaced = [(int)PlacementState.Expired, (int)PlacementState.Declined, (int)PlacementState.Cancelled];

    protected override TimeSpan Interval => options.Value.PurgeInterval;

    protected override string Name => "Shelter retention purge";

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ShelterDbContext>();
        var now = Clock.GetUtcNow();
        var retention = options.Value;
        var endedBefore = PlacementRow.Moment(now - retention.EndedPlacementRetention);
        var unplacedBefore = PlacementRow.Moment(now - retention.UnplacedPlacementRetention);
        var placements = await db.Placements
            .Where(p => (p.State == (int)PlacementState.Ended && p.EndedAt < endedBefore) || (Unplaced.Contains(p.State) && p.EndedAt < unplacedBefore))
            .ExecuteDeleteAsync(cancellationToken);

        var closedBefore = PlacementRow.Moment(now - retention.ClosedAdmissionFactsRetention);
        var facts = await db.AdmissionFacts.Where(f => f.Closed && f.ClosedAt < closedBefore).ExecuteDeleteAsync(cancellationToken);

        var groupsBefore = PlacementRow.Moment(now - retention.EndedLargeGroupRetention);
        var over = db.LargeGroups
            .Where(g => (g.State == (int)LargeGroupState.Ended || g.State == (int)LargeGroupState.NotArranged) && g.EndsAt < groupsBefore)
            .Select(g => g.ArrangementId);
        // Allocations first (they reference the arrangement), both in one transaction so none is left without the other.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LargeGroupAllocations.Where(a => over.Contains(a.ArrangementId)).ExecuteDeleteAsync(cancellationToken);
        var groups = await db.LargeGroups.Where(g => over.Contains(g.ArrangementId)).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        if (placements + facts + groups > 0)
        {
            Logger.LogInformation("Purged {Placements} placements, {Facts} closed registrations' admission facts and {Groups} large-group arrangements past their retention.", placements, facts, groups);
        }
    }
}
