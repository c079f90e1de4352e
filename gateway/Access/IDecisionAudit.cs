using Ketenmesh.Policy.Decisions;

namespace Ketenmesh.Gateway.Access;

/// <summary>One gateway decision, as the audit log keeps it: identifiers and pseudonyms, never a payload.</summary>
/// <param name="Count">How many calls it stands for: more than 1 only for refusals folded by <see cref="FoldedDenials"/>.</param>
public sealed record Decision(
    DateTimeOffset Time,
    string PartnerId,
    string Purpose,
    string Method,
    bool Allowed,
    string Reason,
    EnforcedGrant? Grant,
    string TraceId,
    string? SubjectPseudonym,
    int Count = 1);

/// <summary>Where decisions go. <see cref="RecordAsync"/> completes once the record is durable.</summary>
public interface IDecisionAudit
{
    /// <summary>Completes once the record is durable; until then nothing may go ahead on the decision.</summary>
    /// <exception cref="Ketenmesh.Audit.AuditUnavailableException">Not durable, or not within <c>Audit:AppendTimeout</c>: refuse the call.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> (the call's deadline, or the caller leaving) came first.</exception>
    ValueTask RecordAsync(Decision decision, CancellationToken cancellationToken);
}
