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
