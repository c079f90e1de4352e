using System.Text;
using Chain.Registry.V1;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Dashboard;
using Ketenmesh.OfficerConsole.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

/// <summary>
/// The National Rapporteur's dashboard: persons registered per year by form of exploitation, minors, nationality
/// and sector, as charts drawn on the server and as tables; a withheld figure reads "withheld", never zero.
/// </summary>
public sealed class DashboardModel(RapporteurStatistics statistics, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true)] public int? YearFrom { get; set; }
    [BindProperty(SupportsGet = true)] public int? YearTo { get; set; }

    public int From => YearFrom ?? To - 4;

    public int To => YearTo ?? clock.GetUtcNow().Year;

    public IReadOnlyList<Breakdown> Breakdowns { get; private set; } = [];

    public string? Problem { get; private set; }

    /// <summary>Signed in, but as a privacy officer: the statistics are not theirs to read here.</summary>
    public bool SignedInAsOfficer => User.HasClaim(c => c.Type == OfficerSignIn.OfficerClaim);

    public async Task<IActionResult> OnGetAsync()
    {
        if (Researcher() is { } notYet)
        {
            return notYet;
        }
        await ReadAsync();
        return Page();
    }

    /// <summary>Null for the Rapporteur's researcher; otherwise what to answer instead (their sign-in, or why not).</summary>
    IActionResult? Researcher()
    {
        if (User.HasClaim(c => c.Type == OfficerSignIn.RapporteurClaim))
        {
            return null;
        }
        if (SignedInAsOfficer)
        {
            Problem = "The statistics are the National Rapporteur's to read, not a privacy officer's. Sign out, then sign in as the Rapporteur's researcher.";
            return Page();
        }
        return Challenge(new AuthenticationProperties(new Dictionary<string, string?> { [OfficerSignIn.ForStatistics] = "yes" })
        {
            RedirectUri = Request.Path + Request.QueryString,
        }, OpenIdConnectDefaults.AuthenticationScheme);
    }

    async Task ReadAsync()
    {
        if (From > To || To - From > 30)
        {
            Problem = "Choose a first year no later than the last, and at most 30 years.";
            return;
        }
        try
        {
            Breakdowns = await statistics.DashboardAsync(From, To);
        }
        catch (RpcException refusal)
        {
            Problem = RapporteurStatistics.PlainWords(refusal);
        }
    }

    /// <summary>One breakdown's table as CSV.</summary>
    public async Task<IActionResult> OnGetCsvAsync(StatisticsDimension by)
    {
        if (Researcher() is { } notYet)
        {
            return notYet;
        }
        await ReadAsync();
        if (Breakdowns.FirstOrDefault(b => b.By == by) is not { } breakdown)
        {
            Problem ??= "There is no such table on the dashboard.";
            return Page();
        }
        return File(Encoding.UTF8.GetBytes(breakdown.ToCsv()), "text/csv; charset=utf-8", $"ketenmesh-statistics-{breakdown.By.ToString().ToLowerInvariant()}-{From}-{To}.csv");
    }
}
