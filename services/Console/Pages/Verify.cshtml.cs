using System.Diagnostics;
using Chain.Audit.V1;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Audit;
using Ketenmesh.OfficerConsole.Dashboard;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

/// <summary>
/// "Verify the chain": the gateway recomputes the audit log's hash chain and checks its signed checkpoints, a
/// slice at a time; this page asks for slices until the end of the chain, a problem, or its own time is up (then
/// it says how far it got and offers to go on from there).
/// </summary>
public sealed class VerifyModel(AuditTrailAsOfficer trail) : PageModel
{
    static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);

    public bool Ran { get; private set; }

    public bool Intact { get; private set; }

    public bool Finished { get; private set; }

    public long From { get; private set; }

    public long RecordsChecked { get; private set; }

    public long CheckpointsChecked { get; private set; }

    public VerifyChainResponse? Broken { get; private set; }

    public long ContinueFrom { get; private set; }

    public Checkpoint? LastCheckpoint { get; private set; }

    public string? Problem { get; private set; }

    public void OnGet()
    {
    }

    /// <summary>The same verification, answered as CSV: one line with its outcome and the last checkpoint.</summary>
    public async Task<IActionResult> OnPostCsvAsync(long from)
    {
        await OnPostAsync(from);
        if (Problem is not null)
        {
            return Page();
        }
        var outcome = Broken is { } broken ? $"broken at record {broken.FirstBrokenSequence}: {broken.FirstBrokenReason}" : Finished ? "intact" : $"intact so far; continue from record {ContinueFrom}";
        var csv = Csv.Line(["verified at", "from record", "records checked", "checkpoints checked", "outcome", "last checkpoint record", "last checkpoint signed at", "last checkpoint head hash", "last checkpoint key", "last checkpoint signature"])
            + Csv.Line([
                DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                From.ToString(System.Globalization.CultureInfo.InvariantCulture), RecordsChecked.ToString(System.Globalization.CultureInfo.InvariantCulture),
                CheckpointsChecked.ToString(System.Globalization.CultureInfo.InvariantCulture), outcome,
                LastCheckpoint?.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), AuditTrailAsOfficer.Time(LastCheckpoint?.Time),
                LastCheckpoint?.HeadHash, LastCheckpoint?.KeyId, LastCheckpoint is null ? "" : LastCheckpoint.SignatureVerifies ? "verifies" : "does not verify"]);
        return File(System.Text.Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", "ketenmesh-audit-verification.csv");
    }

    public async Task OnPostAsync(long from)
    {
        Ran = true;
        From = Math.Max(1, from);
        var started = Stopwatch.StartNew();
        var next = From;
        try
        {
            while (true)
            {
                var slice = await trail.VerifySliceAsync(next);
                RecordsChecked += slice.RecordsChecked;
                CheckpointsChecked += slice.CheckpointsChecked;
                LastCheckpoint = slice.LastCheckpoint;
                if (!slice.Intact)
                {
                    Broken = slice;
                    return;
                }
                if (slice.NextFromSequence == 0)
                {
                    Intact = true;
                    Finished = true;
                    return;
                }
                next = slice.NextFromSequence;
                if (started.Elapsed > Budget)
                {
                    Intact = true;
                    ContinueFrom = next;
                    return;
                }
            }
        }
        catch (RpcException refusal)
        {
            Problem = AuditTrailAsOfficer.PlainWords(refusal);
            ContinueFrom = next;
        }
    }
}
