using System.Diagnostics.Metrics;

namespace Ketenmesh.Audit;

/// <summary>
/// What every allowed call waits on: the log's commit. Its duration is the floor under the gateway's
/// latency (a record, its index entries and the chain's head made durable in one transaction), so an
/// operator sees a slow audit database before partners do.
/// </summary>
public sealed class AuditMetrics
{
    public const string MeterName = "Ketenmesh.Audit";
    public const string CommitDurationName = "ketenmesh.audit.commit.duration";
    public const string RecordsTag = "records";

    public AuditMetrics(IMeterFactory meters)
    {
        // From the host's factory, not a static Meter: each host (and each test's log) measures its own commits.
        CommitDuration = meters.Create(MeterName).CreateHistogram<double>(
            CommitDurationName, "s", "Time the audit log takes to link and durably commit one batch of records");
    }

    /// <summary>One measurement per committed batch, from the transaction's start to its commit returning, tagged with the batch's size.</summary>
    public Histogram<double> CommitDuration { get; }
}
