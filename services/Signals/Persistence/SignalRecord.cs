namespace Ketenmesh.Signals.Persistence;

/// <summary>
/// A stored signal. The observation is kept as the partner sent it (protobuf bytes): it is evidence,
/// read back whole, never queried field by field.
/// </summary>
public sealed class SignalRecord
{
    public required string SignalId { get; init; }

    /// <summary>The partner that reported it (catalog id, e.g. <c>police</c>); scopes idempotency and "my signals".</summary>
    public required string ReporterPartnerId { get; init; }

    public required string ClientRequestId { get; init; }

    public required byte[] Observation { get; init; }

    public int Status { get; set; }

    public byte[]? Outcome { get; set; }

    public DateTime ReceivedAt { get; init; }

    public DateTime StatusChangedAt { get; set; }

    /// <summary>Optimistic concurrency: bumps on every change.</summary>
    public long Version { get; set; }

    /// <summary>
    /// A moment as every database keeps it: whole microseconds (PostgreSQL's precision). Times are cut
    /// before they are stored or sent, so a change heard live and the same change read back agree.
    /// </summary>
    public static DateTime Moment(DateTimeOffset now) => new(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMicrosecond, DateTimeKind.Utc);
}

/// <summary>
/// One status change of a signal, kept in the transaction that made it: what a watch reads back, so a
/// change committed on another replica is heard with its previous status, and none is skipped when two
/// come between two reads.
/// </summary>
public sealed class SignalStatusChangeRecord
{
    public long Sequence { get; init; }

    public required string SignalId { get; init; }

    public required string ReporterPartnerId { get; init; }

    public required string ClientRequestId { get; init; }

    public int PreviousStatus { get; init; }

    public int NewStatus { get; init; }

    public byte[]? Outcome { get; init; }

    public DateTime ChangedAt { get; init; }
}
