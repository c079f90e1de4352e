using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Shelter.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Domain;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Shelter.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// The shelters' beds: what each reports, what the chain may read, and every change in order. A change
/// of any shelter's beds takes the next capacity version inside its own transaction, which serialises
/// capacity changes: versions commit in the order they are handed out, so a watch that read version N
/// has seen every version before it, on any replica.
/// </summary>
public sealed class CapacityBoard(ShelterDbContext db, EventOutbox<ShelterDbContext> outbox, CapacityFeed feed, TimeProvider clock, BedOffers offers)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;

    /// <summary>
    /// A shelter reports its own beds. The shelter is the verified caller; a report for any other shelter is
    /// refused. Source: BRIEF.md partner table: shelters share "bed capacity, placements, care needs". A bed the
    /// report leaves free is offered to those waiting (<see cref="BedOffers.OfferToHeadAsync"/>), so the stored
    /// capacity may show more reserved beds than the shelter had.
    /// </summary>
    public async Task<CapacitySnapshot> ReportAsync(string partnerId, ReportCapacityRequest request, CancellationToken cancellationToken)
    {
        if (request.ShelterId.Length > 0 && request.ShelterId != partnerId)
        {
            // Names no shelter: the caller learns only that it may speak for itself.
            throw new NotAllowed("A shelter reports only its own capacity; leave shelter_id empty or name your own.");
        }
        // One read of the shelter, inside the change: a report is on a watcher's clock, and reading it before taking
        // the turn as well cost a round trip to the database on every report. Refusals roll the change back.
        await using var change = await BeginChangeAsync(cancellationToken);
        var tracked = await db.Shelters.FirstOrDefaultAsync(s => s.ShelterId == partnerId, cancellationToken)
            ?? throw new NotAllowed("Only a shelter reports capacity, and only its own; your organisation is not a seeded shelter.");
        InvalidRequest.ThrowIfAny(CapacityRules.Validate(request, CategoriesOf(tracked), clock.GetUtcNow()));
        if (tracked.Version != request.ExpectedVersion)
        {
            throw new Outdated($"The capacity changed since version {request.ExpectedVersion} (it is now at version {tracked.Version}); nothing was stored. Read it again and report on the new version.");
        }
        var now = PlacementRow.Moment(clock.GetUtcNow());
        var asOf = request.AsOf is { } described ? PlacementRow.Moment(described.ToDateTimeOffset()) : now;
        if (tracked.AsOf is { } stored && asOf < stored)
        {
            // Refused, not ignored: a shelter's system that sent its counts late (a queued report, a retry after it read
            // the version again) must learn they were not stored, or it believes the board shows them.
            throw new NotNow($"The stored capacity describes a later moment ({stored:O}) than this report's as_of ({asOf:O}); nothing was stored. Report your current counts.");
        }
        var beds = await db.Beds.Where(b => b.ShelterId == partnerId).ToListAsync(cancellationToken);
        foreach (var reported in request.Beds)
        {
            var bed = beds.FirstOrDefault(b => b.Category == (int)reported.Category);
            if (bed is null)
            {
                bed = new BedRow { ShelterId = partnerId, Category = (int)reported.Category };
                db.Beds.Add(bed);
                beds.Add(bed);
            }
            if (reported.TotalBeds - reported.OccupiedBeds < bed.Held)
            {
                throw new NotNow($"{bed.Held} {reported.Category} bed(s) are held for placements; report at least that many free, or confirm or release the holds first.");
            }
            bed.Total = reported.TotalBeds;
            bed.Occupied = reported.OccupiedBeds;
        }
        foreach (var bed in beds.Where(b => request.Beds.Any(r => (int)r.Category == b.Category)))
        {
            // Beds the report frees go to those waiting for them, in this change, as a released bed does: a bed
            // reported free while someone waits for it would otherwise stay empty until the next release.
            while (await offers.OfferToHeadAsync(change, bed, cancellationToken))
            {
                // Each offer works on the waiting requests as the last one left them (BedOffers keeps them for the change).
            }
        }
        tracked.AsOf = asOf;
        tracked.ReportedAt = now;
        var snapshot = change.Record(tracked, beds);
        await change.CommitAsync(cancellationToken);
        return snapshot;
    }

    /// <summary>One shelter with its latest capacity.</summary>
    public async Task<ShelterOverview> GetAsync(string shelterId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(shelterId))
        {
            throw new InvalidRequest("shelter_id is required.", [("shelter_id", "is required")]);
        }
        var shelter = await db.Shelters.AsNoTracking().FirstOrDefaultAsync(s => s.ShelterId == shelterId, cancellationToken)
            ?? throw new NotFound("No such shelter.");
        var beds = await db.Beds.AsNoTracking().Where(b => b.ShelterId == shelterId).ToListAsync(cancellationToken);
        return Overview(shelter, beds);
    }

    /// <summary>Shelters by kind, category and region (municipality), optionally only those with a free bed in a wanted category.</summary>
    public async Task<ListSheltersResponse> ListAsync(ListSheltersRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string, string)>();
        if (request.PageSize is < 0 or > MaxPageSize)
        {
            problems.Add(("page_size", $"must be 0 (default {DefaultPageSize}) to {MaxPageSize}"));
        }
        if (request.CategoryFilter.Any(c => c == ShelterCategory.Unspecified || !System.Enum.IsDefined(c)))
        {
            problems.Add(("category_filter", "must name categories"));
        }
        if (request.KindFilter.Any(k => k == ShelterKind.Unspecified || !System.Enum.IsDefined(k)))
        {
            problems.Add(("kind_filter", "must name kinds"));
        }
        InvalidRequest.ThrowIfAny(problems);
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var query = db.Shelters.AsNoTracking();
        if (request.KindFilter.Count > 0)
        {
            // Each filter is a set: each distinct value once, as each becomes a parameter of the query.
            var kinds = request.KindFilter.Select(k => (int)k).Distinct().ToList();
            query = query.Where(s => kinds.Contains(s.Kind));
        }
        if (request.MunicipalityCodes.Count > 0)
        {
            var codes = request.MunicipalityCodes.Distinct().ToList();
            query = query.Where(s => codes.Contains(s.MunicipalityCode));
        }
        if (request.PageToken.Length > 0)
        {
            var after = request.PageToken;
            query = query.Where(s => string.Compare(s.ShelterId, after) > 0);
        }
        var shelters = await query.OrderBy(s => s.ShelterId).ToListAsync(cancellationToken);
        var ids = shelters.Select(s => s.ShelterId).ToList();
        var beds = (await db.Beds.AsNoTracking().Where(b => ids.Contains(b.ShelterId)).ToListAsync(cancellationToken)).ToLookup(b => b.ShelterId);
        var wanted = request.CategoryFilter.ToHashSet();
        var matching = shelters
            .Select(s => Overview(s, beds[s.ShelterId]))
            .Where(o => wanted.Count == 0 || o.Shelter.Categories.Any(wanted.Contains))
            .Where(o => !request.OnlyAvailable || o.Capacity.Beds.Any(b => (wanted.Count == 0 || wanted.Contains(b.Category)) && b.AvailableBeds > 0))
            .Take(pageSize + 1)
            .ToList();
        var response = new ListSheltersResponse();
        response.Shelters.AddRange(matching.Take(pageSize));
        if (matching.Count > pageSize)
        {
            response.NextPageToken = matching[pageSize - 1].Shelter.ShelterId;
        }
        return response;
    }

    /// <summary>Every shelter's current capacity, in version order: where a watch starts.</summary>
    public async Task<List<CapacitySnapshot>> CurrentAsync(CancellationToken cancellationToken)
    {
        var shelters = await db.Shelters.AsNoTracking().ToListAsync(cancellationToken);
        var beds = (await db.Beds.AsNoTracking().ToListAsync(cancellationToken)).ToLookup(b => b.ShelterId);
        return shelters.OrderBy(s => s.Version).Select(s => Snapshot(s, beds[s.ShelterId])).ToList();
    }

    /// <summary>The changes after <paramref name="version"/>, in order, at most <paramref name="limit"/>.</summary>
    public async Task<List<CapacitySnapshot>> ChangesAfterAsync(long version, int limit, CancellationToken cancellationToken)
    {
        var rows = await db.CapacityChanges.AsNoTracking().Where(c => c.Version > version)
            .OrderBy(c => c.Version).Take(limit).ToListAsync(cancellationToken);
        return rows.Select(r => CapacitySnapshot.Parser.ParseFrom(r.Snapshot)).ToList();
    }

    /// <summary>
    /// Deletes the changes recorded before <paramref name="before"/>, except each shelter's latest (what its current
    /// capacity says), and moves <see cref="CapacityHeadRow.PurgedThrough"/> up to the highest version deleted, in
    /// one transaction: a watch never finds a change gone that the head does not account for. Returns how many
    /// changes were deleted.
    /// </summary>
    internal async Task<int> PurgeChangesAsync(DateTime before, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The first statement writes, as a capacity change's does: the purge takes its turn with the changes.
        await db.Database.ExecuteSqlRawAsync("UPDATE capacity_head SET purged_through = purged_through WHERE id = 1", cancellationToken);
        var latest = db.CapacityChanges.GroupBy(c => c.ShelterId).Select(g => g.Max(c => c.Version));
        var through = await db.CapacityChanges.Where(c => c.RecordedAt < before && !latest.Contains(c.Version)).MaxAsync(c => (long?)c.Version, cancellationToken);
        if (through is not { } horizon)
        {
            await transaction.CommitAsync(cancellationToken);
            return 0;
        }
        var purged = await db.CapacityChanges.Where(c => c.Version <= horizon && !latest.Contains(c.Version)).ExecuteDeleteAsync(cancellationToken);
        await db.CapacityHead.Where(h => h.Id == 1 && h.PurgedThrough < horizon)
            .ExecuteUpdateAsync(h => h.SetProperty(r => r.PurgedThrough, horizon), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return purged;
    }

    /// <summary>Starts a capacity change: a transaction holding the next version (and, with it, every other change's turn).</summary>
    internal async Task<CapacityChange> BeginChangeAsync(CancellationToken cancellationToken)
    {
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            // The first statement writes: on SQLite it takes the write lock before anything is read, on PostgreSQL it
            // locks the one head row until commit. Either way the rest of the change reads what the last one committed.
            var version = (await db.Database
                .SqlQueryRaw<long>("UPDATE capacity_head SET version = version + 1 WHERE id = 1 RETURNING version AS \"Value\"")
                .ToListAsync(cancellationToken)).Single();
            return new CapacityChange(db, outbox, feed, transaction, version, PlacementRow.Moment(clock.GetUtcNow()));
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits for the capacity turn inside the caller's own transaction (an inbox's) and keeps it until that commits,
    /// without a capacity change: a merge moving requests to their survivor and a request deciding under a registration
    /// then come one after the other, so neither is decided under an id the other just changed.
    /// </summary>
    internal Task WaitForTurnAsync(CancellationToken cancellationToken) =>
        // A write that changes nothing: on PostgreSQL it locks the head row as BeginChangeAsync's update does, on SQLite it
        // takes the write lock; the version, which watchers resume from, stays as it is.
        db.Database.ExecuteSqlRawAsync("UPDATE capacity_head SET version = version WHERE id = 1", cancellationToken);

    internal static IReadOnlyCollection<ShelterCategory> CategoriesOf(ShelterRow shelter) =>
        shelter.Categories.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(c => (ShelterCategory)int.Parse(c, System.Globalization.CultureInfo.InvariantCulture)).ToList();

    internal static ShelterOverview Overview(ShelterRow shelter, IEnumerable<BedRow> beds) => new()
    {
        Shelter = new ShelterFacility
        {
            ShelterId = shelter.ShelterId,
            Name = shelter.Name,
            OperatorName = shelter.OperatorName,
            Kind = (ShelterKind)shelter.Kind,
            Categories = { CategoriesOf(shelter) },
            Municipality = new Municipality { Code = shelter.MunicipalityCode, Name = shelter.MunicipalityName },
            Secured = shelter.Secured,
        },
        Capacity = Snapshot(shelter, beds),
    };

    internal static CapacitySnapshot Snapshot(ShelterRow shelter, IEnumerable<BedRow> beds)
    {
        var snapshot = new CapacitySnapshot
        {
            ShelterId = shelter.ShelterId,
            Kind = (ShelterKind)shelter.Kind,
            Version = shelter.Version,
        };
        if (shelter.AsOf is { } asOf)
        {
            snapshot.AsOf = PlacementRow.Stamp(asOf);
        }
        if (shelter.ReportedAt is { } reportedAt)
        {
            snapshot.ReportedAt = PlacementRow.Stamp(reportedAt);
        }
        snapshot.Beds.AddRange(beds.OrderBy(b => b.Category).Select(b => new BedCount
        {
            Category = (ShelterCategory)b.Category,
            TotalBeds = b.Total,
            OccupiedBeds = b.Occupied,
            ReservedBeds = b.Held,
            AvailableBeds = Math.Max(0, b.Total - b.Occupied - b.Held),
        }));
        return snapshot;
    }
}

/// <summary>
/// One capacity change in progress: its transaction and version. <see cref="Record"/> stamps a shelter's
/// new beds with the version, keeps them in the change log and tells the chain (ShelterCapacityChanged).
/// A change of several shelters at once (a large group's places) records each with <see cref="RecordAsync"/>:
/// every shelter after the first takes the next version in the same transaction, so the change log stays one
/// snapshot per version, without holes, and a watch sees all of them or none.
/// </summary>
internal sealed class CapacityChange(ShelterDbContext db, EventOutbox<ShelterDbContext> outbox, CapacityFeed feed, IDbContextTransaction transaction, long version, DateTime now) : IAsyncDisposable
{
    private readonly HashSet<string> _recorded = new(StringComparer.Ordinal);
    private long _version = version;

    /// <summary>The last version this change took.</summary>
    public long Version => _version;

    public DateTime Now => now;

    public CapacitySnapshot Record(ShelterRow shelter, IEnumerable<BedRow> beds)
    {
        if (_recorded.Count > 0)
        {
            throw new InvalidOperationException("This change recorded a shelter already; record the next with RecordAsync, which takes it a version of its own.");
        }
        return Stamp(shelter, beds);
    }

    /// <summary>Records one more shelter in this change, with a version of its own; each shelter once.</summary>
    public async Task<CapacitySnapshot> RecordAsync(ShelterRow shelter, IEnumerable<BedRow> beds, CancellationToken cancellationToken)
    {
        if (_recorded.Contains(shelter.ShelterId))
        {
            throw new InvalidOperationException($"This change recorded {shelter.ShelterId} already; record each shelter once, as the change leaves it.");
        }
        if (_recorded.Count > 0)
        {
            // This transaction holds the head row since BeginChangeAsync: the next version is this change's too.
            _version = (await db.Database
                .SqlQueryRaw<long>("UPDATE capacity_head SET version = version + 1 WHERE id = 1 RETURNING version AS \"Value\"")
                .ToListAsync(cancellationToken)).Single();
        }
        return Stamp(shelter, beds);
    }

    private CapacitySnapshot Stamp(ShelterRow shelter, IEnumerable<BedRow> beds)
    {
        _recorded.Add(shelter.ShelterId);
        shelter.Version = _version;
        var snapshot = CapacityBoard.Snapshot(shelter, beds);
        db.CapacityChanges.Add(new CapacityChangeRow { Version = _version, ShelterId = shelter.ShelterId, Snapshot = snapshot.ToByteArray(), RecordedAt = now });
        outbox.Add(new ShelterCapacityChanged
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = Timestamp.FromDateTime(now),
            ShelterId = shelter.ShelterId,
            Kind = snapshot.Kind,
            Beds = { snapshot.Beds },
            Version = _version,
        });
        return snapshot;
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_recorded.Count == 0)
        {
            throw new InvalidOperationException("A capacity change that records nothing is rolled back, not committed.");
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        feed.Changed();
    }

    /// <summary>
    /// Commits what else the transaction changed (a placement waitlisted or cancelled) while no bed changed: the
    /// version goes back, so the change log stays without holes.
    /// </summary>
    public async Task CommitWithoutCapacityAsync(CancellationToken cancellationToken)
    {
        if (_recorded.Count > 0)
        {
            throw new InvalidOperationException("This change recorded capacity; commit it with CommitAsync.");
        }
        await db.Database.ExecuteSqlRawAsync("UPDATE capacity_head SET version = version - 1 WHERE id = 1", cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
    }

    public ValueTask DisposeAsync() => transaction.DisposeAsync();
}
