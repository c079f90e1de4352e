namespace Ketenmesh.Audit;

public enum AuditDecision
{
    Allowed = 1,
    Denied = 2,
}

/// <summary>How long a record is kept, and who may see it.</summary>
public enum AuditRecordClass
{
    /// <summary>An ordinary access decision.</summary>
    Access = 1,

    /// <summary>Investigation (criminal_investigation): withheld from data-subject access reports until released.</summary>
    Confidential = 2,
}

/// <summary>
/// One gateway decision as the log keeps it: identifiers and pseudonyms only. There is deliberately
/// no field for a payload, a name or a token.
/// </summary>
/// <param name="Count">
/// How many calls the record stands for: 1, or more where the gateway folded repeated refusals of one
/// source within a short window into one record (a flood must not write a record per call, and no
/// refusal may go unrecorded). The text fields are bounded and cleaned of control characters when the
/// entry is appended (<see cref="AuditText"/>).
/// </param>
public sealed record AuditEntry(
    DateTimeOffset Time,
    string PartnerId,
    string Purpose,
    string Method,
    AuditDecision Decision,
    string Reason,
    string? GrantId,
    string? GrantVersionHash,
    string? LegalBasis,
    string? TraceId,
    string? SubjectPseudonym,
    AuditRecordClass RecordClass,
    int Count = 1);

/// <summary>An entry as stored: its place in the chain and its chain hash (lower-case hex).</summary>
public sealed record StoredAuditEntry(long Sequence, AuditEntry Entry, string Hash);

/// <summary>Appends decisions to the log.</summary>
public interface IAuditLog
{
    /// <summary>Completes only once the entry is committed; concurrent callers share one transaction (group commit).</summary>
    /// <returns>The entry's sequence number in the chain.</returns>
    /// <exception cref="AuditUnavailableException">
    /// The entry could not be made durable, or not within <c>Audit:AppendTimeout</c>: whatever waited on it must not go ahead.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> (the call's own deadline) came first.</exception>
    ValueTask<long> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default);
}
