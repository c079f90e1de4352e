using Chain.Audit.V1;
using Ketenmesh.OfficerConsole.Audit;

namespace Ketenmesh.OfficerConsole.Tests;

/// <summary>An export of the audit search is whole or is not made: never a file cut short without a word.</summary>
public sealed class AuditExportTests
{
    static async IAsyncEnumerable<Decision> Found(int count)
    {
        for (var sequence = 1; sequence <= count; sequence++)
        {
            await Task.Yield();
            yield return new Decision { Sequence = sequence };
        }
    }

    [Fact]
    public async Task As_many_decisions_as_an_export_holds_are_all_exported()
    {
        var decisions = await AuditTrailAsOfficer.CollectAsync(Found(3), max: 3);

        Assert.NotNull(decisions);
        Assert.Equal([1L, 2L, 3L], decisions.Select(d => d.Sequence));
    }

    [Fact]
    public async Task One_decision_more_than_an_export_holds_makes_no_export()
    {
        Assert.Null(await AuditTrailAsOfficer.CollectAsync(Found(4), max: 3));
    }
}
