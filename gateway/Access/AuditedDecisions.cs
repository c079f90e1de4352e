using System.Diagnostics.Metrics;
using Ketenmesh.Audit;

namespace Ketenmesh.Gateway.Access;

/// <summary>
/// Gateway decisions into the tamper-evident audit log (building-blocks/Ketenmesh.Audit), and counted by
/// partner, purpose and outcome once recorded (the metric never says more than the audit does: no method
/// arguments, no subject).
/// </summary>
public sealed class AuditedDecisions(IAuditLog log) : IDecisionAudit
{
    private static readonly Meter Meter = new("Ketenmesh.Gateway");

    private static readonly Counter<long> Decisions = Meter.CreateCounter<long>(
        "ketenmesh.gateway.decisions", "{decision}", "Access decisions the gateway recorded, by partner, purpose and outcome");

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
            grant?.Grant.Confidential == true ? AuditRecordClass.Confidential : AuditRecordClass.Access,
            decision.Count), cancellationToken);
        Decisions.Add(decision.Count,
            new KeyValuePair<string, object?>("partner", decision.PartnerId),
            new KeyValuePair<string, object?>("purpose", decision.Purpose),
            new KeyValuePair<string, object?>("outcome", decision.Allowed ? "allowed" : "denied"));
    }
}
