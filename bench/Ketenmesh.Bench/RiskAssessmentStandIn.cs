using Chain.Common.V1;
using Chain.Risk.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Grpc;

namespace Ketenmesh.Bench;

/// <summary>
/// The upstream of the gateway benchmark: risk assessment on our gRPC layer, answering GetAssessment
/// with a fixed, fully filled assessment, so both runs measure the same service and only the
/// gateway hop differs.
/// </summary>
public sealed class RiskAssessmentStandIn
{
    private static readonly GetAssessmentResponse Answer = new()
    {
        Assessment = new Assessment
        {
            AssessmentId = "as-0001",
            SignalId = "sg-0001",
            Score = 72,
            Band = RiskBand.High,
            RecommendedTrack = Track.CriminalInvestigation,
            RuleSetVersion = "2026.11-1",
            EscalationFlags = { EscalationFlag.Minor },
            AssessedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 2, 9, 30, 0, TimeSpan.Zero)),
        },
    };

    public Task<GetAssessmentResponse> GetAssessment(GetAssessmentRequest request, ServerCallContext context) => Task.FromResult(Answer);

    public Task<ExplainAssessmentResponse> ExplainAssessment(ExplainAssessmentRequest request, ServerCallContext context) => throw Unimplemented();

    public Task<ListRuleSetsResponse> ListRuleSets(ListRuleSetsRequest request, ServerCallContext context) => throw Unimplemented();

    public Task<ReassessOpenSignalsResponse> ReassessOpenSignals(ReassessOpenSignalsRequest request, ServerCallContext context) => throw Unimplemented();

    private static RpcException Unimplemented() => new(new Status(StatusCode.Unimplemented, "Not part of the benchmark."));
}
