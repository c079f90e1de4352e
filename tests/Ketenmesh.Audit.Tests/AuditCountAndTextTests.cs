using Ketenmesh.Audit.Chain;
using Ketenmesh.Audit.Reading;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Audit.Tests;

/// <summary>
/// Records that stand for several calls (folded refusals), and record text as callers send it: control
/// characters and unbounded lengths never reach the store, and the chain verifies across both.
/// </summary>
public sealed class AuditCountAndTextTests
{
    public static TheoryData<string> Providers => ["Sqlite", "Postgres"];

    private static readonly AuditEntry Fixed = new(
        DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), "police", "criminal_investigation", "chain.registry.v1.VictimRegistry/GetRegistration",
        AuditDecision.Allowed, "decision 1", "police-criminal-investigation", "ab12", "Wpg art. 8", $"{1:x32}", null, AuditRecordClass.Access);

    [Fact]
    public void A_record_of_one_call_hashes_exactly_as_format_version_1_did()
    {
        // Computed from the format's description (version byte, length-prefixed UTF-8 fields) outside this code base:
        // records written before counts existed must keep their digests, or every old chain would fail to verify.
        Assert.Equal("2cf75fcaa0db448438aaa4d48aeb674a1c8fe35057268c97668b04e7ab6170e7", Convert.ToHexStringLower(CanonicalEntry.Digest(Fixed)));
    }

    [Fact]
    public void A_record_of_several_calls_is_format_version_2_with_its_count()
    {
        var folded = Fixed with { Count = 5 };

        Assert.Equal(CanonicalEntry.CountedVersion, CanonicalEntry.Encode(folded)[0]);
        Assert.Equal("195512a126eca2ce5226c165b50c115c63b0a0619c34724a395b6cd862d5d67b", Convert.ToHexStringLower(CanonicalEntry.Digest(folded)));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_folded_record_keeps_its_count_and_a_changed_count_is_detected(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        await host.Log.AppendAsync(AuditHost.Entry(1));
        var folded = await host.Log.AppendAsync(AuditHost.Entry(2) with { Decision = AuditDecision.Denied, Count = 17_000 });
        await host.Log.AppendAsync(AuditHost.Entry(3));

        var stored = (await host.RecordsAsync()).Select(r => r.Entry.Count).ToList();
        var intact = await host.VerifyAsync();
        await host.TamperAsync($"UPDATE audit_records SET call_count = 1 WHERE sequence = {folded}");
        var problem = Assert.Single((await host.VerifyAsync()).Problems);

        Assert.Equal([1, 17_000, 1], stored);
        Assert.True(intact.Intact, string.Join("; ", intact.Problems));
        Assert.Equal((folded, AuditProblemKind.Changed), (problem.Sequence, problem.Kind));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_purged_folded_record_keeps_the_chain_verifying(string provider)
    {
        // The scheduled purge is off, so the purge below is the one that empties the record.
        await using var host = await AuditHost.StartAsync(provider, new() { ["Audit:PurgeInterval"] = "00:00:00" });
        await host.Log.AppendAsync(AuditHost.Entry(1, time: DateTimeOffset.UtcNow.AddYears(-6)) with { Count = 3 });
        await host.Log.AppendAsync(AuditHost.Entry(2));

        var purged = await host.WithScopeAsync(s => s.GetRequiredService<AuditRetention>().PurgeAsync(DateTimeOffset.UtcNow));

        Assert.Equal(1, purged);
        var verification = await host.VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(1, verification.Purged);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Control_characters_and_overlong_text_never_reach_the_store(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        const string hostile = "x\n   1 2026-01-01 00:00:00Z Allowed forged\r\u001b[2J\u001b]0;owned\u0007\u0085\u202e\u2028\ud800end";
        var entry = new AuditEntry(DateTimeOffset.UtcNow, "unauthenticated" + hostile, hostile, "chain.signals.v1.SignalIntake/" + hostile + new string('m', 5000),
            AuditDecision.Denied, "Unauthenticated: " + hostile + new string('r', 100_000), hostile, hostile, hostile, hostile, hostile, AuditRecordClass.Access);

        await host.Log.AppendAsync(entry);

        var stored = Assert.Single(await host.RecordsAsync()).Entry;
        string?[] fields = [stored.PartnerId, stored.Purpose, stored.Method, stored.Reason, stored.GrantId, stored.GrantVersionHash, stored.LegalBasis, stored.TraceId, stored.SubjectPseudonym];
        Assert.All(fields, f => Assert.DoesNotContain(f!, c => char.IsControl(c) || char.IsSurrogate(c) || c is '\u202e' or '\u2028'));
        Assert.Contains(AuditText.Replacement, stored.Purpose);
        Assert.True(stored.Method.Length <= AuditText.MaxMethod, $"method of {stored.Method.Length}");
        Assert.True(stored.Reason.Length <= AuditText.MaxReason, $"reason of {stored.Reason.Length}");
        Assert.StartsWith("chain.signals.v1.SignalIntake/x", stored.Method);
        Assert.True((await host.VerifyAsync()).Intact);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Every_read_gives_a_record_stored_with_control_characters_escaped(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        await host.Log.AppendAsync(AuditHost.Entry(1, subject: "registration_id:reg-1"));
        // A record as the log wrote them before it cleaned its text, put there behind the log's back.
        var chr = provider == "Postgres" ? "chr" : "char";
        await host.TamperAsync($"UPDATE audit_records SET method = 'x' || {chr}(10) || '       9 forged' || {chr}(27) || '[2J', reason = 'r' || {chr}(13) WHERE sequence = 1");

        var range = Assert.Single(await host.RecordsAsync()).Entry;
        var own = Assert.Single(await host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().ForPartnerAsync("police", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), 10))).Entry;
        var report = Assert.Single((await host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().SubjectAccessReportAsync("registration_id:reg-1"))).Accesses);

        Assert.All([range.Method, range.Reason, own.Method, own.Reason, report.Method], text => Assert.DoesNotContain(text, char.IsControl));
        Assert.Equal($"x{AuditText.Replacement}       9 forged{AuditText.Replacement}[2J", report.Method);
    }

    [Fact]
    public void Text_is_cut_on_a_character_boundary_and_marked()
    {
        var cut = AuditText.Clean(new string('a', 9) + "😀😀", 10);

        Assert.Equal(new string('a', 9) + "…", cut);
        Assert.Same("plain-ascii/Method", AuditText.Clean("plain-ascii/Method", 100));
    }
}
