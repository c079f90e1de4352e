using Ketenmesh.Audit;

namespace Ketenmesh.Gateway.Access;

/// <summary>Gateway decisions into the tamper-evident audit log (building-blocks/Ketenmesh.Audit).</summary>
public sealed class AuditedDecisions(IAuditLog log) : IDecisionAudit
{
    public async ValueTask RecordAsync(Decision decision, CancellationToken cancellationToken)
    {
        var grant = decision.Grant;
        await log.AppendAsync(new AuditEntry(
            decision.Time,
            decision.PartnerId,
            decision.Purpose,
            decision.Method,
            decision.Allowed ? AuditDecision.Allowed : AuditDecision.Denied,
            decision.Reason,
            grant?.GrantId,
            grant?.VersionHash,
            grant?.Grant.LegalBasis,
            decision.TraceId,
            decision.SubjectPseudonym,
            grant?.Grant.Confidential == true ? AuditRecordClass.Confidential : AuditRecordClass.Access), cancellationToken);
    }
}
