using Chain.Risk.V1;
using Ketenmesh.Hosting.GrpcServer;

namespace Ketenmesh.Risk.Grpc;

/// <summary>What a risk request must carry before the service looks anything up (run by the validation interceptor).</summary>
internal static class RiskRequestValidators
{
    public static IServiceCollection AddRiskRequestValidators(this IServiceCollection services) => services
        .AddRequestValidator<GetAssessmentValidator>()
        .AddRequestValidator<ExplainAssessmentValidator>()
        .AddRequestValidator<ReassessValidator>();

    private sealed class GetAssessmentValidator : RequestValidator<GetAssessmentRequest>
    {
        public override IEnumerable<(string Field, string Description)> Validate(GetAssessmentRequest request) =>
            Required(request.SignalId, "signal_id", "name the signal whose assessment you want.");
    }

    private sealed class ExplainAssessmentValidator : RequestValidator<ExplainAssessmentRequest>
    {
        public override IEnumerable<(string Field, string Description)> Validate(ExplainAssessmentRequest request) =>
            Required(request.AssessmentId, "assessment_id", "name the assessment to explain (GetAssessment gives it).");
    }

    private sealed class ReassessValidator : RequestValidator<ReassessOpenSignalsRequest>
    {
        public override IEnumerable<(string Field, string Description)> Validate(ReassessOpenSignalsRequest request) =>
            Required(request.RuleSetVersion, "rule_set_version", "name the rule set to apply (ListRuleSets shows them).");
    }

    private static IEnumerable<(string, string)> Required(string value, string field, string how) =>
        string.IsNullOrWhiteSpace(value) ? [(field, $"is required: {how}")] : [];
}
