namespace Ketenmesh.Risk.Persistence;

/// <summary>What a signal said, as SignalReceived carried it: kept so a new rule set can assess it again.</summary>
public sealed class SignalFactsRow
{
    public string SignalId { get; set; } = "";
    /// <summary>The SignalReceived event, protobuf bytes.</summary>
    public byte[] Facts { get; set; } = [];
    public DateTime ReceivedAt { get; set; }
}

/// <summary>
/// One assessment of one signal under one rule-set version. Never changed afterwards except that a
/// newer one takes over <see cref="Current"/>: history is kept, so every earlier answer stays explainable.
/// </summary>
public sealed class AssessmentRow
{
    public string AssessmentId { get; set; } = "";
    public string SignalId { get; set; } = "";
    public string RuleSetVersion { get; set; } = "";
    public bool Current { get; set; }
    public DateTime AssessedAt { get; set; }
    /// <summary>chain.risk.v1.ExplainAssessmentResponse, protobuf bytes: the assessment with every contribution.</summary>
    public byte[] Explained { get; set; } = [];
}

/// <summary>Which rule-set version is active; the rules themselves live in the service's files.</summary>
public sealed class RuleSetStateRow
{
    public string Version { get; set; } = "";
    public int State { get; set; }
    public DateTime? ActivatedAt { get; set; }
    public DateTime? RetiredAt { get; set; }
}
