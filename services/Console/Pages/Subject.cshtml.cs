using System.Text;
using Chain.Audit.V1;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Audit;
using Ketenmesh.OfficerConsole.Dashboard;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

/// <summary>
/// A data-subject access report (inzageverzoek, AVG art. 15) by subject pseudonym: who accessed the person, when
/// and for what. The officer also sees the confidential (investigation) accesses the subject is not shown, marked.
/// </summary>
public sealed class SubjectModel(AuditTrailAsOfficer trail) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Pseudonym { get; set; }

    public GetSubjectAccessReportResponse? Report { get; private set; }

    public string? Problem { get; private set; }

    public async Task OnGetAsync()
    {
        if (string.IsNullOrWhiteSpace(Pseudonym))
        {
            return;
        }
        try
        {
            Report = await trail.SubjectReportAsync(Pseudonym.Trim());
        }
        catch (RpcException refusal)
        {
            Problem = AuditTrailAsOfficer.PlainWords(refusal);
        }
    }

    public async Task<IActionResult> OnGetCsvAsync()
    {
        await OnGetAsync();
        if (Report is null)
        {
            Problem ??= "Name the subject first: a field name and an identifier, for example registration_id:reg-1.";
            return Page();
        }
        var csv = new StringBuilder(Csv.Line(["sequence", "time", "partner", "purpose", "method", "outcome", "shown to the subject"]));
        foreach (var access in Report.Accesses)
        {
            csv.Append(Csv.Line([
                access.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), AuditTrailAsOfficer.Time(access.Time), access.PartnerId,
                access.Purpose, access.Method, access.Allowed ? "allowed" : "denied", access.WithheldFromSubject ? "no: withheld (confidential investigation)" : "yes"]));
        }
        return File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv; charset=utf-8", "ketenmesh-subject-access-report.csv");
    }
}
