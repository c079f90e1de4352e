using Ketenmesh.Audit.Reading;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Audit.Tests;

public sealed class AuditReadingTests
{
    public static TheoryData<string> Providers => ["Sqlite", "Postgres"];

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_partner_reads_its_own_records_and_no_others(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        await host.Log.AppendAsync(AuditHost.Entry(1, partner: "police"));
        await host.Log.AppendAsync(AuditHost.Entry(2, partner: "care"));
        await host.Log.AppendAsync(AuditHost.Entry(3, partner: "police"));

        var own = await host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().ForPartnerAsync("police", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), 100));

        Assert.Equal([1L, 3L], own.Select(e => e.Sequence));
        Assert.All(own, e => Assert.Equal("police", e.Entry.PartnerId));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Subject_access_report_withholds_investigation_records_until_released(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        await host.Log.AppendAsync(AuditHost.Entry(1, partner: "care", subject: "registration_id:reg-9"));
        var confidential = await host.Log.AppendAsync(AuditHost.Entry(2, partner: "police", subject: "registration_id:reg-9", recordClass: AuditRecordClass.Confidential));
        await host.Log.AppendAsync(AuditHost.Entry(3, partner: "ind", subject: "registration_id:reg-other"));

        var before = await host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().SubjectAccessReportAsync("registration_id:reg-9"));
        await host.WithScopeAsync(async s =>
        {
            await s.GetRequiredService<AuditReader>().ReleaseAsync(confidential, "privacy-officer-1", "investigation closed (case 2026-114)");
            return 0;
        });
        var after = await host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().SubjectAccessReportAsync("registration_id:reg-9"));

        Assert.Equal(["care"], before.Accesses.Select(a => a.PartnerId));
        Assert.Equal(1, before.Withheld);
        Assert.Equal(["care", "police"], after.Accesses.Select(a => a.PartnerId));
        Assert.Equal(0, after.Withheld);
        Assert.True((await host.VerifyAsync()).Intact, "a release must not touch the chain");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Releasing_a_record_that_is_not_confidential_is_refused(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        var ordinary = await host.Log.AppendAsync(AuditHost.Entry(1));

        await Assert.ThrowsAsync<KeyNotFoundException>(() => host.WithScopeAsync(async s =>
        {
            await s.GetRequiredService<AuditReader>().ReleaseAsync(ordinary, "privacy-officer-1", "why not");
            return 0;
        }));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Purge_removes_old_content_per_class_and_the_chain_still_verifies(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider, new()
        {
            ["Audit:AccessRetention"] = "30.00:00:00",
            ["Audit:ConfidentialRetention"] = "365.00:00:00",
            ["Audit:CheckpointInterval"] = "2",
            // Purged here by hand, not by the schedule.
            ["Audit:PurgeInterval"] = "00:00:00",
        });
        var now = DateTimeOffset.UtcNow;
        await host.Log.AppendAsync(AuditHost.Entry(1, time: now.AddDays(-60)));
        await host.Log.AppendAsync(AuditHost.Entry(2, time: now.AddDays(-60), recordClass: AuditRecordClass.Confidential));
        await host.Log.AppendAsync(AuditHost.Entry(3, time: now.AddDays(-1)));
        await host.StopAsync();

        var purged = await host.WithScopeAsync(s => s.GetRequiredService<AuditRetention>().PurgeAsync(now));
        var remaining = await host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().RangeAsync(1, 100));
        var verification = await host.VerifyAsync();

        Assert.Equal(1, purged);
        Assert.Equal([2L, 3L], remaining.Select(e => e.Sequence));
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(1, verification.Purged);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_purge_runs_by_itself_on_schedule(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider, new()
        {
            ["Audit:AccessRetention"] = "30.00:00:00",
            ["Audit:PurgeInterval"] = "00:00:00.200",
        });
        await host.Log.AppendAsync(AuditHost.Entry(1, time: DateTimeOffset.UtcNow.AddDays(-60)));
        await host.Log.AppendAsync(AuditHost.Entry(2));

        IReadOnlyList<StoredAuditEntry> remaining = [];
        for (var i = 0; i < 100; i++)
        {
            remaining = await host.WithScopeAsync(s => s.GetRequiredService<AuditReader>().RangeAsync(1, 100));
            if (remaining.Count == 1)
            {
                break;
            }
            await Task.Delay(100);
        }

        Assert.Equal([2L], remaining.Select(e => e.Sequence));
    }
}
