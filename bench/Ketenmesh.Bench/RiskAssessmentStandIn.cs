using Chain.Common.V1;
using Chain.Risk.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Ketenmesh.Bench;

/// <summary>
/// The upstream of the gateway benchmark: risk assessment hosted as the mesh hosts its components,
/// answering GetAssessment with a fixed, fully filled assessment, so both runs measure the same service
/// and only the gateway hop differs. The other methods answer UNIMPLEMENTED (the generated base).
/// </summary>
public sealed class RiskAssessmentStandIn : RiskAssessment.RiskAssessmentBase
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

    public override Task<GetAssessmentResponse> GetAssessment(GetAssessmentRequest request, ServerCallContext context) => Task.FromResult(Answer);
}
