using System.Globalization;
using System.Text;
using Chain.Audit.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Audit;
using Ketenmesh.OfficerConsole.Grants;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

/// <summary>Every partner's decisions, searched by partner, purpose, method, outcome and time; a page at a time, or all as CSV.</summary>
public sealed class AuditModel(AuditTrailAsOfficer trail) : PageModel
{
    public IReadOnlyList<string> Methods => ChainMethods.Names;

    [BindProperty(SupportsGet = true)] public string? Partner { get; set; }
    [BindProperty(SupportsGet = true)] public string? Purpose { get; set; }
    [BindProperty(SupportsGet = true)] public string? Method { get; set; }
    [BindProperty(SupportsGet = true)] public string? Outcome { get; set; }
    [BindProperty(SupportsGet = true)] public DateTime? From { get; set; }
    [BindProperty(SupportsGet = true)] public DateTime? To { get; set; }
    [BindProperty(SupportsGet = true)] public long After { get; set; }

    public bool Searched => Request.Query.Count > 0;

    public IReadOnlyList<Decision> Decisions { get; private set; } = [];

    public long Next { get; private set; }

    public string? Problem { get; private set; }

    public async Task OnGetAsync()
    {
        if (!Searched)
        {
            return;
        }
        try
        {
            var answer = await trail.SearchAsync(WithPageSize(Search(), 100));
            Decisions = answer.Decisions;
            Next = answer.NextAfterSequence;
        }
        catch (RpcException refusal)
        {
            Problem = AuditTrailAsOfficer.PlainWords(refusal);
        }
    }

    public async Task<IActionResult> OnGetCsvAsync()
    {
        IReadOnlyList<Decision>? decisions;
        try
        {
            decisions = await AuditTrailAsOfficer.CollectAsync(trail.SearchAllAsync(Search()));
        }
        catch (RpcException refusal)
        {
            Problem = AuditTrailAsOfficer.PlainWords(refusal);
            return Page();
        }

        if (decisions is null)
        {
            Problem = $"The search finds more than {AuditTrailAsOfficer.MaxExportRows.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} decisions, more than one export holds. Narrow it (a shorter time, one partner or method) and export each part.";
            return Page();
        }
        var name = $"ketenmesh-audit-{DateTime.UtcNow:yyyyMMdd-HHmmss}.csv";
        return File(Encoding.UTF8.GetBytes(AuditTrailAsOfficer.Csv(decisions)), "text/csv; charset=utf-8", name);
    }

    /// <summary>This page's filters as a query string, for the next page and the export.</summary>
    public string Query(long? after = null, string? handler = null)
    {
        var query = new Dictionary<string, string?>
        {
            ["partner"] = Partner, ["purpose"] = Purpose, ["method"] = Method, ["outcome"] = Outcome,
            ["from"] = From?.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture),
            ["to"] = To?.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture),
            ["after"] = after?.ToString(CultureInfo.InvariantCulture),
            ["handler"] = handler,
        };
        return QueryString.Create(query.Where(p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();
    }

    static SearchDecisionsRequest WithPageSize(SearchDecisionsRequest request, int size)
    {
        request.PageSize = size;
        return request;
    }

    SearchDecisionsRequest Search()
    {
        var request = new SearchDecisionsRequest
        {
            PartnerId = Partner?.Trim() ?? "",
            Purpose = Purpose?.Trim() ?? "",
            Method = Method ?? "",
            Outcome = Outcome switch { "allowed" => Chain.Audit.V1.Outcome.Allowed, "denied" => Chain.Audit.V1.Outcome.Denied, _ => Chain.Audit.V1.Outcome.Unspecified },
            AfterSequence = After,
        };
        // The form's times are UTC, as the audit log keeps them.
        if (From is { } from)
        {
            request.FromTime = Timestamp.FromDateTime(DateTime.SpecifyKind(from, DateTimeKind.Utc));
        }
        if (To is { } to)
        {
            request.ToTime = Timestamp.FromDateTime(DateTime.SpecifyKind(to, DateTimeKind.Utc));
        }
        return request;
    }
}
