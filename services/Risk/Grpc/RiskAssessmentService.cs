using System.Globalization;
using Chain.Risk.V1;
using Grpc.Core;
using Ketenmesh.Hosting;
using Ketenmesh.Risk.Domain;
using Ketenmesh.Risk.Persistence;
using Microsoft.EntityFrameworkCore;
using Ketenmesh.Domain;

namespace Ketenmesh.Risk.Grpc;

/// <summary>chain.risk.v1.RiskAssessment: assessments read back and explained, rule sets listed, signals re-assessed.</summary>
[CalledByPartners]
public sealed class RiskAssessmentService(RiskDbContext db, Assessor assessor, RuleSetLibrary library) : RiskAssessment.RiskAssessmentBase
{
    public const int MaxPageSize = 100;

    public override async Task<GetAssessmentResponse> GetAssessment(GetAssessmentRequest request, ServerCallContext context)
    {
        var query = db.Assessments.AsNoTracking().Where(a => a.SignalId == request.SignalId);
        query = request.RuleSetVersion.Length == 0 ? query.Where(a => a.Current) : query.Where(a => a.RuleSetVersion == request.RuleSetVersion);
        var row = await query.FirstOrDefaultAsync(context.CancellationToken)
            ?? throw new NotFound(request.RuleSetVersion.Length == 0
                ? $"Signal '{request.SignalId}' has no assessment (yet); assessment follows within moments of intake."
                : $"Signal '{request.SignalId}' was not assessed under rule set '{request.RuleSetVersion}'.");
        return new GetAssessmentResponse { Assessment = ExplainAssessmentResponse.Parser.ParseFrom(row.Explained).Assessment };
    }

    public override async Task<ExplainAssessmentResponse> ExplainAssessment(ExplainAssessmentRequest request, ServerCallContext context)
    {
        var row = await db.Assessments.AsNoTracking().FirstOrDefaultAsync(a => a.AssessmentId == request.AssessmentId, context.CancellationToken)
            ?? throw new NotFound($"There is no assessment '{request.AssessmentId}'.");
        return ExplainAssessmentResponse.Parser.ParseFrom(row.Explained);
    }

    public override async Task<ListRuleSetsResponse> ListRuleSets(ListRuleSetsRequest request, ServerCallContext context)
    {
        var pageSize = request.PageSize == 0 ? 20 : request.PageSize;
        var offset = 0;
        var problems = new List<(string, string)>();
        if (pageSize is < 1 or > MaxPageSize)
        {
            problems.Add(("page_size", $"must be between 1 and {MaxPageSize} (0 means 20)."));
        }
        if (request.PageToken.Length > 0 && (!int.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset < 0))
        {
            problems.Add(("page_token", "is not a token this service gave out; start again without one."));
        }
        if (problems.Count > 0)
        {
            throw new InvalidRequest("The listing request is not valid.", problems);
        }
        await assessor.ActiveAsync(context.CancellationToken);
        await db.SaveChangesAsync(context.CancellationToken);
        var states = await db.RuleSetStates.AsNoTracking().ToDictionaryAsync(r => r.Version, context.CancellationToken);
        var all = library.All
            .Select(r => WithState(r, states.GetValueOrDefault(r.Version)))
            .Where(r => request.StateFilter.Count == 0 || request.StateFilter.Contains(r.State))
            .OrderByDescending(r => r.Version, StringComparer.Ordinal)
            .ToList();
        var response = new ListRuleSetsResponse { RuleSets = { all.Skip(offset).Take(pageSize) } };
        if (offset + pageSize < all.Count)
        {
            response.NextPageToken = (offset + pageSize).ToString(CultureInfo.InvariantCulture);
        }
        return response;
    }

    public override async Task<ReassessOpenSignalsResponse> ReassessOpenSignals(ReassessOpenSignalsRequest request, ServerCallContext context)
    {
        try
        {
            return await assessor.ReassessAsync(request.RuleSetVersion, request.DryRun, context.CancellationToken);
        }
        catch (KeyNotFoundException e)
        {
            throw new NotFound(e.Message);
        }
    }

    /// <summary>The file says what a version was shipped as; the database says what it is now.</summary>
    private static RuleSet WithState(RuleSet shipped, RuleSetStateRow? state)
    {
        var ruleSet = shipped.Clone();
        ruleSet.State = state is null ? RuleSetState.Draft : (RuleSetState)state.State;
        ruleSet.ActivatedAt = state?.ActivatedAt is { } activated ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(activated, DateTimeKind.Utc)) : null;
        ruleSet.RetiredAt = state?.RetiredAt is { } retired ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(retired, DateTimeKind.Utc)) : null;
        return ruleSet;
    }
}
