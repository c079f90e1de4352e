using Chain.Audit.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Dashboard;

namespace Ketenmesh.OfficerConsole.Audit;

/// <summary>
/// The gateway's chain.audit.v1.AuditTrail as the signed-in officer: search, the data-subject report and the
/// chain's verification, each with the officer's own token (every read the gateway itself puts on record).
/// </summary>
public sealed class AuditTrailAsOfficer(AuditTrail.AuditTrailClient client, SessionToken token)
{
    /// <summary>Most rows one CSV export pages through: 50 of the gateway's largest pages.</summary>
    public const int MaxExportRows = 50_000;

    public async Task<SearchDecisionsResponse> SearchAsync(SearchDecisionsRequest request) =>
        await client.SearchDecisionsAsync(request, await token.CallOptionsAsync());

    /// <summary>
    /// Every decision the search finds, page after page, and one more than <see cref="MaxExportRows"/> at most: enough
    /// for <see cref="CollectAsync"/> to tell an export that is whole from one that would be cut.
    /// </summary>
    public async IAsyncEnumerable<Decision> SearchAllAsync(SearchDecisionsRequest request)
    {
        var page = request.Clone();
        page.PageSize = 1000;
        var rows = 0;
        while (true)
        {
            var answer = await client.SearchDecisionsAsync(page, await token.CallOptionsAsync());
            foreach (var decision in answer.Decisions)
            {
                if (++rows > MaxExportRows + 1)
                {
                    yield break;
                }
                yield return decision;
            }
            if (answer.NextAfterSequence == 0)
            {
                yield break;
            }
            page.AfterSequence = answer.NextAfterSequence;
        }
    }

    /// <summary>
    /// The decisions found, or null when there are more than <paramref name="max"/>: an export is whole or is not
    /// made, never cut short without a word (an officer would take a cut file for all there is).
    /// </summary>
    public static async Task<IReadOnlyList<Decision>?> CollectAsync(IAsyncEnumerable<Decision> found, int max = MaxExportRows)
    {
        var decisions = new List<Decision>();
        await foreach (var decision in found)
        {
            if (decisions.Count == max)
            {
                return null;
            }

            decisions.Add(decision);
        }

        return decisions;
    }

    public async Task<GetSubjectAccessReportResponse> SubjectReportAsync(string subjectPseudonym) =>
        await client.GetSubjectAccessReportAsync(new GetSubjectAccessReportRequest { SubjectPseudonym = subjectPseudonym, IncludeWithheld = true }, await token.CallOptionsAsync());

    public async Task<VerifyChainResponse> VerifySliceAsync(long fromSequence) =>
        await client.VerifyChainAsync(new VerifyChainRequest { FromSequence = fromSequence }, await token.CallOptionsAsync(TimeSpan.FromSeconds(30)));

    public static string Csv(IEnumerable<Decision> decisions) => string.Concat(
        [Dashboard.Csv.Line(["sequence", "time", "partner", "purpose", "method", "outcome", "reason", "grant", "grant version", "legal basis", "subject", "trace", "calls"]),
         .. decisions.Select(d => Dashboard.Csv.Line([
            d.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), Time(d.Time), d.PartnerId, d.Purpose, d.Method,
            d.Allowed ? "allowed" : "denied", d.Reason, d.GrantId, d.GrantVersionHash, d.LegalBasis, d.SubjectPseudonym, d.TraceId,
            d.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)]))]);

    public static string Time(Timestamp? time) => time is null ? "" : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What went wrong, in plain words for an officer.</summary>
    public static string PlainWords(RpcException refusal) => OfficerConsole.PlainWords.Of(refusal, "the gateway's audit log", refusal.StatusCode switch
    {
        StatusCode.PermissionDenied => "The gateway did not allow this: " + refusal.Status.Detail,
        StatusCode.ResourceExhausted => "You have read a lot from the audit log in a short time. Wait a moment and try again.",
        StatusCode.InvalidArgument => "The search could not be made: " + refusal.Status.Detail,
        _ => null,
    });
}
