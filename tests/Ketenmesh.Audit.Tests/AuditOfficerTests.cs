using System.Text.RegularExpressions;
using Ketenmesh.Audit.Chain;
using Ketenmesh.Audit.Reading;
using Ketenmesh.Audit.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Audit.Tests;

/// <summary>What the privacy officers' console reads: the search of every partner's decisions, the chain checked in slices with its last checkpoint, and the withheld entries of a subject report.</summary>
public sealed class AuditOfficerTests
{
    public static TheoryData<string> Providers => ["Sqlite", "Postgres"];

    private const string Lookup = "chain.registry.v1.VictimRegistry/GetRegistration";
    private const string Submit = "chain.signals.v1.SignalIntake/SubmitSignal";

    private static readonly DateTimeOffset Start = DateTimeOffset.UtcNow.AddHours(-1);

    private static Task<IReadOnlyList<StoredAuditEntry>> SearchAsync(AuditHost host, AuditSearch search, int limit = 1000, long after = 0) =>
        host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().SearchAsync(search, limit, after));

    private static AuditSearch Everything => new(null, null, null, null, Start.AddDays(-1), DateTimeOffset.UtcNow.AddMinutes(1));

    /// <summary>Eight records, each unlike the first in one way, so each filter's answer is known exactly.</summary>
    private static async Task WriteVariedAsync(AuditHost host)
    {
        var basis = AuditHost.Entry(1, partner: "police", time: Start) with { Purpose = "criminal_investigation", Method = Lookup, Decision = AuditDecision.Allowed };
        AuditEntry[] entries =
        [
            basis,                                                              // 1
            basis with { PartnerId = "care", Purpose = "victim_care" },         // 2
            basis with { Method = Submit },                                     // 3
            basis with { Decision = AuditDecision.Denied },                     // 4
            basis with { Purpose = "statistics", Decision = AuditDecision.Denied }, // 5
            basis with { Time = Start.AddMinutes(30) },                         // 6
            basis with { PartnerId = "care", Purpose = "victim_care", Method = Submit, Time = Start.AddMinutes(30) }, // 7
            basis with { RecordClass = AuditRecordClass.Confidential },         // 8
        ];
        foreach (var entry in entries)
        {
            await host.Log.AppendAsync(entry);
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Each_search_filter_narrows_to_the_matching_decisions(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        await WriteVariedAsync(host);

        var all = await SearchAsync(host, Everything);
        var care = await SearchAsync(host, Everything with { PartnerId = "care" });
        var statistics = await SearchAsync(host, Everything with { Purpose = "statistics" });
        var submits = await SearchAsync(host, Everything with { Method = Submit });
        var denied = await SearchAsync(host, Everything with { Decision = AuditDecision.Denied });
        var allowed = await SearchAsync(host, Everything with { Decision = AuditDecision.Allowed });
        var later = await SearchAsync(host, Everything with { From = Start.AddMinutes(10) });
        var earlier = await SearchAsync(host, Everything with { To = Start.AddMinutes(10) });
        var combined = await SearchAsync(host, Everything with { PartnerId = "police", Purpose = "criminal_investigation", Method = Lookup, Decision = AuditDecision.Allowed, To = Start.AddMinutes(10) });

        Assert.Equal([1L, 2, 3, 4, 5, 6, 7, 8], all.Select(e => e.Sequence));
        Assert.Equal([2L, 7], care.Select(e => e.Sequence));
        Assert.Equal([5L], statistics.Select(e => e.Sequence));
        Assert.Equal([3L, 7], submits.Select(e => e.Sequence));
        Assert.Equal([4L, 5], denied.Select(e => e.Sequence));
        Assert.Equal([1L, 2, 3, 6, 7, 8], allowed.Select(e => e.Sequence));
        Assert.Equal([6L, 7], later.Select(e => e.Sequence));
        Assert.Equal([1L, 2, 3, 4, 5, 8], earlier.Select(e => e.Sequence));
        // A confidential record is the officers' to see: the withholding is from the data subject.
        Assert.Equal([1L, 8], combined.Select(e => e.Sequence));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Search_pages_follow_each_other_without_gaps_or_repeats_while_the_log_grows(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        var expected = new List<long>();
        for (var n = 1; n <= 30; n++)
        {
            var sequence = await host.Log.AppendAsync(AuditHost.Entry(n, partner: n % 3 == 0 ? "care" : "police"));
            if (n % 3 != 0)
            {
                expected.Add(sequence);
            }
        }

        var seen = new List<long>();
        long after = 0;
        var pages = 0;
        while (true)
        {
            var page = await SearchAsync(host, Everything with { PartnerId = "police", To = DateTimeOffset.UtcNow.AddHours(1) }, limit: 3, after: after);
            seen.AddRange(page.Select(e => e.Sequence));
            pages++;
            if (pages == 2)
            {
                // Written between pages: found at the end, once.
                expected.Add(await host.Log.AppendAsync(AuditHost.Entry(31, partner: "police")));
                await host.Log.AppendAsync(AuditHost.Entry(32, partner: "care"));
            }
            if (page.Count < 3)
            {
                break;
            }
            after = page[^1].Sequence;
        }

        Assert.Equal(expected, seen);
        Assert.True(pages >= 7, $"{pages} pages");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Each_search_filter_is_read_from_its_own_index(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider, new() { ["Audit:AppendTimeout"] = "00:01:00" });
        var now = DateTimeOffset.UtcNow;
        // 2,000 records, one in a hundred unlike the rest in one way: what a search for it must not scan the chain to find.
        await Task.WhenAll(Enumerable.Range(1, 2000).Select(n => host.Log.AppendAsync(AuditHost.Entry(n, time: n % 100 == 3 ? now.AddDays(-10) : now) with
        {
            PartnerId = n % 100 == 0 ? "rare-partner" : "police",
            Purpose = n % 100 == 1 ? "rare_purpose" : "criminal_investigation",
            Method = n % 100 == 2 ? "chain.rare.v1.Rare/Method" : Lookup,
        }).AsTask()));
        var everything = new AuditSearch(null, null, null, null, now.AddDays(-30), now.AddMinutes(1));
        (string Index, AuditSearch Search)[] searches =
        [
            ("ix_audit_records_partner", everything with { PartnerId = "rare-partner" }),
            ("ix_audit_records_purpose", everything with { Purpose = "rare_purpose" }),
            ("ix_audit_records_method", everything with { Method = "chain.rare.v1.Rare/Method" }),
            // A time range is read from the retention's index, by class.
            ("ix_audit_records_class_time", everything with { From = now.AddDays(-11), To = now.AddDays(-9) }),
        ];

        var plans = await host.WithScopeAsync(async s =>
        {
            var db = s.GetRequiredService<AuditDbContext>();
            // As each runs in service: PostgreSQL's autovacuum gathers statistics, nothing runs ANALYZE on SQLite.
            if (!db.Database.ProviderName!.Contains("Sqlite", StringComparison.Ordinal))
            {
                await db.Database.ExecuteSqlRawAsync("ANALYZE");
            }
            var reader = s.GetRequiredService<AuditReader>();
            var found = new List<(string Index, string Plan, int Count)>();
            foreach (var (index, search) in searches)
            {
                found.Add((index, await PlanAsync(db, reader.SearchQuery(search, 100, 0)), (await reader.SearchAsync(search, 100)).Count));
            }
            return found;
        });

        Assert.All(plans, p => Assert.True(p.Plan.Contains(p.Index, StringComparison.Ordinal), $"{p.Index} not in the plan: {p.Plan}"));
        Assert.All(plans, p => Assert.Equal(20, p.Count));
        // Every record class is searched: a class the time filter did not name would never be found by time.
        Assert.Equal([AuditRecordClass.Access, AuditRecordClass.Confidential], Enum.GetValues<AuditRecordClass>());
    }

    /// <summary>The database's plan for the query as the reader sends it, its parameters put in place.</summary>
    private static async Task<string> PlanAsync(AuditDbContext db, IQueryable<AuditRecordRow> query)
    {
        // ToQueryString declares each parameter before the statement: SQLite ".param set @p value", Npgsql "-- @p='value' (Nullable = true)".
        var lines = query.ToQueryString().Split('\n');
        var parameters = lines.Select(l => Regex.Match(l.TrimEnd(), @"^(?:\.param set|--) (@\w+)[ =]('(?:[^']|'')*'|\S+)")).Where(m => m.Success)
            .Select(m => (Name: m.Groups[1].Value, Value: m.Groups[2].Value)).OrderByDescending(p => p.Name.Length);
        var sql = string.Join('\n', lines.Where(l => !l.StartsWith(".param", StringComparison.Ordinal) && !l.StartsWith("--", StringComparison.Ordinal)));
        foreach (var (name, value) in parameters)
        {
            sql = sql.Replace(name, value, StringComparison.Ordinal);
        }
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = (db.Database.ProviderName!.Contains("Sqlite", StringComparison.Ordinal) ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + sql;
        await using var reader = await command.ExecuteReaderAsync();
        var plan = new List<string>();
        while (await reader.ReadAsync())
        {
            plan.Add(string.Join(" ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i)?.ToString())));
        }
        return string.Join(" | ", plan);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_fresh_log_verifies_intact_slice_by_slice_as_in_one_pass(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider, new() { ["Audit:CheckpointInterval"] = "4" });
        await WrittenAsync(host, 23);
        // Stopped, so no checkpoint is signed between the slices and the pass.
        await host.StopAsync();

        var slices = await SlicesAsync(host, 5);
        var whole = await host.VerifyAsync();

        Assert.True(whole.Intact, string.Join("; ", whole.Problems));
        Assert.All(slices, s => Assert.True(s.Intact, string.Join("; ", s.Problems)));
        Assert.Equal([1L, 6, 11, 16, 21], slices.Select(s => s.FromSequence));
        Assert.Equal(whole.RecordsChecked, slices.Sum(s => s.RecordsChecked));
        Assert.Equal(whole.CheckpointsChecked, slices.Sum(s => s.CheckpointsChecked));
        Assert.Equal(23, whole.RecordsChecked);
        Assert.Equal(0, slices[^1].NextFromSequence);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_changed_record_is_named_by_the_slice_that_holds_it(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        await WrittenAsync(host, 20);

        await host.TamperAsync("UPDATE audit_records SET reason = 'nothing to see' WHERE sequence = 13");

        var slices = await SlicesAsync(host, 5);
        var broken = Assert.Single(slices, s => !s.Intact);
        Assert.Equal(11, broken.FromSequence);
        Assert.Equal((13L, AuditProblemKind.Changed), (broken.Problems[0].Sequence, broken.Problems[0].Kind));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Records_missing_at_the_end_of_a_slice_are_named_there_not_in_the_next(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        await WrittenAsync(host, 20);

        await host.TamperAsync("DELETE FROM audit_records WHERE sequence IN (10, 11, 12)");

        var slices = await SlicesAsync(host, 10);
        var first = slices.SelectMany(s => s.Problems).OrderBy(p => p.Sequence).First();
        Assert.Equal((10L, AuditProblemKind.Missing), (first.Sequence, first.Kind));
        Assert.False(slices[0].Intact);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_slice_out_of_time_stops_after_one_chunk_and_says_where_to_go_on(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider, new() { ["Audit:AppendTimeout"] = "00:01:00" });
        await Task.WhenAll(Enumerable.Range(1, 2500).Select(n => host.Log.AppendAsync(AuditHost.Entry(n)).AsTask()));

        var first = await host.WithScopeAsync(s => s.GetRequiredService<AuditVerifier>().VerifySliceAsync(1, long.MaxValue, TimeSpan.Zero));
        var rest = await host.WithScopeAsync(s => s.GetRequiredService<AuditVerifier>().VerifySliceAsync(first.NextFromSequence, long.MaxValue, TimeSpan.Zero));

        Assert.Equal(2000, first.RecordsChecked);
        Assert.Equal(2001, first.NextFromSequence);
        Assert.Equal(500, rest.RecordsChecked);
        Assert.Equal(0, rest.NextFromSequence);
        Assert.True(first.Intact && rest.Intact);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_last_checkpoint_is_the_newest_signed_head_and_a_forged_one_does_not_verify(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider, new() { ["Audit:CheckpointInterval"] = "3" });
        await WrittenAsync(host, 10);
        await host.StopAsync();
        var records = await host.RecordsAsync();

        var last = await host.WithScopeAsync(s => s.GetRequiredService<AuditVerifier>().LastCheckpointAsync());
        // Point the newest checkpoint at another head without the signing key: the signature no longer fits.
        await host.TamperAsync("UPDATE audit_checkpoints SET hash = (SELECT digest FROM audit_records WHERE sequence = 3) WHERE sequence = 10");
        var forged = await host.WithScopeAsync(s => s.GetRequiredService<AuditVerifier>().LastCheckpointAsync());

        Assert.NotNull(last);
        // The log checkpoints at every stop, so the newest checkpoint is the head.
        Assert.Equal(10, last.Sequence);
        Assert.Equal(records[^1].Hash, last.HeadHash);
        Assert.True(last.SignatureVerifies);
        Assert.Equal(16, last.KeyId.Length);
        Assert.InRange(last.Time, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.NotNull(forged);
        Assert.False(forged.SignatureVerifies);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_officer_sees_the_withheld_entries_marked_and_the_subjects_report_leaves_them_out(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        await host.Log.AppendAsync(AuditHost.Entry(1, partner: "care", subject: "registration_id:reg-9"));
        var confidential = await host.Log.AppendAsync(AuditHost.Entry(2, partner: "police", subject: "registration_id:reg-9", recordClass: AuditRecordClass.Confidential));

        var officers = await host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().SubjectAccessReportAsync("registration_id:reg-9", includeWithheld: true));
        var subjects = await host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().SubjectAccessReportAsync("registration_id:reg-9"));

        Assert.Equal([(1L, false), (confidential, true)], officers.Accesses.Select(a => (a.Sequence, a.WithheldFromSubject)));
        Assert.Equal(1, officers.Withheld);
        Assert.Equal([1L], subjects.Accesses.Select(a => a.Sequence));
        Assert.All(subjects.Accesses, a => Assert.False(a.WithheldFromSubject));
        Assert.Equal(1, subjects.Withheld);
    }

    private static async Task WrittenAsync(AuditHost host, int count)
    {
        for (var n = 1; n <= count; n++)
        {
            await host.Log.AppendAsync(AuditHost.Entry(n));
        }
    }

    /// <summary>The whole chain as the console walks it: slice after slice until the end.</summary>
    private static async Task<List<AuditVerification>> SlicesAsync(AuditHost host, long size)
    {
        var slices = new List<AuditVerification>();
        long from = 1;
        do
        {
            var slice = await host.WithScopeAsync(s => s.GetRequiredService<AuditVerifier>().VerifySliceAsync(from, size, Timeout.InfiniteTimeSpan));
            slices.Add(slice);
            from = slice.NextFromSequence;
        }
        while (from != 0 && slices.Count < 100);
        return slices;
    }
}
