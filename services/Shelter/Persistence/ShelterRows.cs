namespace Ketenmesh.Shelter.Persistence;

/// <summary>
/// A shelter and the capacity version of its beds' last change. Addresses are never stored: shelter
/// locations are confidential; the municipality is the region partners search by.
/// </summary>
public sealed class ShelterRow
{
    public required string ShelterId { get; init; }

    public required string Name { get; init; }

    public required string OperatorName { get; init; }

    public int Kind { get; init; }

    /// <summary>The categories offered, as their enum numbers separated by commas.</summary>
    public required string Categories { get; init; }

    public required string MunicipalityCode { get; init; }

    public required string MunicipalityName { get; init; }

    public bool Secured { get; init; }

    /// <summary>The capacity version of the last change to this shelter's beds.</summary>
    public long Version { get; set; }

    public DateTime? AsOf { get; set; }

    public DateTime? ReportedAt { get; set; }
}

/// <summary>One category of beds in one shelter: what the shelter reports (total, occupied) and what the service holds for placements.</summary>
public sealed class BedRow
{
    public required string ShelterId { get; init; }

    public int Category { get; init; }

    public int Total { get; set; }

    public int Occupied { get; set; }

    /// <summary>Beds held for a placement or a large group, not yet confirmed.</summary>
    public int Held { get; set; }
}

/// <summary>
/// One change of capacity, kept whole: what a watch replays after a reconnect. Versions are handed out
/// by <see cref="CapacityHeadRow"/> inside the change's own transaction, so they commit in order.
/// </summary>
public sealed class CapacityChangeRow
{
    public long Version { get; init; }

    public required string ShelterId { get; init; }

    /// <summary>The shelter's CapacitySnapshot after the change (protobuf bytes).</summary>
    public required byte[] Snapshot { get; init; }

    public DateTime RecordedAt { get; init; }
}

/// <summary>The last capacity version handed out; one row. Taking the next version locks it until commit.</summary>
public sealed class CapacityHeadRow
{
    public int Id { get; init; }

    public long Version { get; set; }

    /// <summary>
    /// The highest version the change log no longer holds (0: none purged). Every change after it is still in
    /// the log, so a watch resumes after this version or a later one, never an earlier one.
    /// </summary>
    public long PurgedThrough { get; set; }
}

/// <summary>A placement request and the bed it holds or occupies.</summary>
public sealed class PlacementRow
{
    public required string PlacementId { get; init; }

    /// <summary>The registration; moves to the survivor when the registry merges it into another.</summary>
    public required string RegistrationId { get; set; }

    /// <summary>The partner that asked (catalog id); scopes idempotency and who reads it back.</summary>
    public required string RequestedBy { get; init; }

    public required string ClientRequestId { get; init; }

    public int State { get; set; }

    /// <summary>The category asked for; once a bed is held, the category of that bed (a COSM request not admitted is held its fallback).</summary>
    public int Category { get; set; }

    public string? ShelterId { get; set; }

    public int WaitingList { get; set; }

    /// <summary>The PlacementNeeds as requested (protobuf bytes).</summary>
    public required byte[] Needs { get; init; }

    /// <summary>
    /// The large-group arrangement it was asked under, empty for none; null for a request stored before this was kept,
    /// whose resubmission is then judged without it rather than refused.
    /// </summary>
    public string? ArrangementId { get; init; }

    /// <summary>
    /// The bed was one of the places its arrangement held (not a free bed matched as for anyone): a hold on it that
    /// ends unused gives the place back to the group while the arrangement holds (<see cref="Domain.LargeGroups.ReturnPlaceAsync"/>).
    /// </summary>
    public bool FromGroupPlace { get; init; }

    public DateTime RequestedAt { get; init; }

    public DateTime? HoldExpiresAt { get; set; }

    public DateTime? PlacedAt { get; set; }

    public DateTime? EndedAt { get; set; }

    public long Version { get; set; }

    /// <summary>Met the COSM admission criteria when requested (COSM requests only).</summary>
    public bool CosmEligible { get; set; }

    /// <summary>Why not: CosmIneligibility numbers separated by commas; empty when eligible or not asked.</summary>
    public string Ineligibility { get; set; } = string.Empty;

    /// <summary>
    /// While HELD: the waiting list the bed was offered from (0 when the requester was held a bed at once). A hold
    /// offered to someone waiting that runs out unconfirmed puts them back on this list, in their old turn.
    /// </summary>
    public int OfferedFrom { get; set; }

    /// <summary>A moment as every database keeps it: whole microseconds (PostgreSQL's precision).</summary>
    public static DateTime Moment(DateTimeOffset now) => new(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMicrosecond, DateTimeKind.Utc);

    /// <summary>A stored moment as the contracts carry it (the providers read it back without a kind; it is UTC).</summary>
    public static Google.Protobuf.WellKnownTypes.Timestamp Stamp(DateTime moment) =>
        Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(moment, DateTimeKind.Utc));
}

/// <summary>
/// What the registry last told this service about a registration (RegistrationAdmissionFacts): the projection
/// COSM admission is decided on, without calling the registry.
/// </summary>
public sealed class AdmissionFactsRow
{
    public required string RegistrationId { get; init; }

    /// <summary>The registration's version the facts are of; older facts arriving late are ignored.</summary>
    public long Version { get; set; }

    public bool Minor { get; set; }

    public bool DutchNational { get; set; }

    public bool InReflectionPeriod { get; set; }

    public bool AangifteMade { get; set; }

    /// <summary>Ever recorded as an asylum seeker: once seen, it stays ("no earlier asylum procedure").</summary>
    public bool AsylumProcedure { get; set; }

    public bool Closed { get; set; }

    /// <summary>When this service learnt that the registration was closed; the facts are purged a retention after it (ShelterPurge).</summary>
    public DateTime? ClosedAt { get; set; }
}

/// <summary>A registration the registry merged into another (RegistrationsMerged): requests under it are decided on the survivor's facts.</summary>
public sealed class RegistrationMergeRow
{
    public required string MergedRegistrationId { get; init; }

    public required string SurvivingRegistrationId { get; set; }
}

/// <summary>
/// Temporary shelter for a large group (up to 14 days) and the places held for it: the request as made, what
/// was found, and when the places go back.
/// </summary>
public sealed class LargeGroupRow
{
    public required string ArrangementId { get; init; }

    /// <summary>The partner that asked (catalog id); scopes idempotency.</summary>
    public required string RequestedBy { get; init; }

    public required string ClientRequestId { get; init; }

    /// <summary>LargeGroupState.</summary>
    public int State { get; set; }

    /// <summary>The RequestLargeGroupShelterRequest as made (protobuf bytes): a resubmission is compared with it.</summary>
    public required byte[] Request { get; init; }

    public DateTime RequestedAt { get; init; }

    /// <summary>Start of the shelter period: the expected start of the action.</summary>
    public DateTime StartsAt { get; init; }

    /// <summary>End of the shelter period: the held places go back then.</summary>
    public DateTime EndsAt { get; init; }

    public DateTime? ReleasedAt { get; set; }
}

/// <summary>Places held in one shelter, of one category, for a large group.</summary>
public sealed class LargeGroupAllocationRow
{
    public required string ArrangementId { get; init; }

    public required string ShelterId { get; init; }

    public int Category { get; init; }

    public int Places { get; set; }
}
