using System.Collections.Concurrent;
using System.Diagnostics;
using Chain.Audit.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Testing;
using Microsoft.Data.Sqlite;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// Refusals anyone can cause in bulk are all on record, without a record per call: repeats of one source
/// within a window are folded into one record with their count (docs/security.md, issue 11 finding 4).
/// </summary>
public sealed class FoldedDenialTests
{
    /// <summary>How many refused calls a flood is: thousands in a few of the gateway's windows on a quiet machine.</summary>
    private const int Refusals = 500;

    /// <summary>The most a flood may take: a caller that waited for its window to close would need far longer.</summary>
    private static readonly TimeSpan MaxFlood = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_flood_of_calls_without_a_token_writes_a_bounded_number_of_records_whose_counts_add_up()
    {
        await using var mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

        var (statuses, elapsed) = await FloodAsync(mesh, new Dictionary<string, string> { ["x-purpose"] = "signalling" }, s => s == (int)StatusCode.Unauthenticated);

        Assert.All(statuses, s => Assert.Equal((int)StatusCode.Unauthenticated, s));
        // No refused caller waits for its window to close: hundreds of calls well within the time a few dozen windows take.
        Assert.True(statuses.Count >= Refusals, $"only {statuses.Count} calls in {elapsed}");
        var records = await AddingUpAsync(mesh, statuses.Count, _ => true);
        Assert.All(records, r => Assert.Equal(("unauthenticated", AuditDecision.Denied), (r.PartnerId, r.Decision)));
        Assert.All(records, r => Assert.StartsWith("Unauthenticated: ", r.Reason));
        AssertBounded(records, elapsed, statuses.Count);
        await mesh.AssertOthersServedAsync();
    }

    [Fact]
    public async Task A_partner_flooding_past_its_rate_limit_writes_a_bounded_number_of_records_whose_counts_add_up()
    {
        await using var mesh = await GatewayMesh.StartAsync(allToContractUpstream: true, settings: new()
        {
            ["Gateway:RateLimitPerSecond"] = "10",
            ["Gateway:RateLimitBurst"] = "10",
        });

        var (statuses, elapsed) = await FloodAsync(mesh, mesh.As("police", "signalling"), s => s == (int)StatusCode.ResourceExhausted);

        var refused = statuses.Count(s => s == (int)StatusCode.ResourceExhausted);
        Assert.True(refused >= Refusals, $"only {refused} of {statuses.Count} calls refused in {elapsed}");
        var records = await AddingUpAsync(mesh, refused, r => r.Reason.StartsWith("ResourceExhausted: ", StringComparison.Ordinal));
        Assert.All(records, r => Assert.Equal(("police", AuditDecision.Denied), (r.PartnerId, r.Decision)));
        AssertBounded(records, elapsed, refused);
        Assert.Contains(records, r => r.Count > 1);
    }

    /// <summary>
    /// Eight callers on their own connections, as fast as they are answered, until <see cref="Refusals"/> calls were
    /// <paramref name="refused"/> (or <see cref="MaxFlood"/> passed): a count, not a time, so a slow machine floods as hard.
    /// </summary>
    private static async Task<(List<int> Statuses, TimeSpan Elapsed)> FloodAsync(GatewayMesh mesh, Dictionary<string, string> metadata, Func<int, bool> refused)
    {
        var statuses = new ConcurrentQueue<int>();
        var refusals = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var raw = new RawGrpc(mesh.Gateway);
            while (Volatile.Read(ref refusals) < Refusals && clock.Elapsed < MaxFlood)
            {
                var status = (await raw.CallAsync(Attacks.ListMySignals, [[]], metadata)).Status;
                statuses.Enqueue(status);
                if (refused(status))
                {
                    Interlocked.Increment(ref refusals);
                }
            }
        }));
        return ([.. statuses], clock.Elapsed);
    }

    /// <summary>The records <paramref name="matching"/>, once their counts add up to <paramref name="calls"/> (the last window's record comes as it closes).</summary>
    private static async Task<List<AuditEntry>> AddingUpAsync(GatewayMesh mesh, int calls, Func<AuditEntry, bool> matching)
    {
        List<AuditEntry> records = [];
        await Eventually.SucceedsAsync(async () =>
        {
            records = (await mesh.AuditAsync()).Where(matching).ToList();
            Assert.Equal(calls, records.Sum(r => r.Count));
        }, TimeSpan.FromSeconds(15));
        return records;
    }

    /// <summary>At most two records per window of one second (the first refusal, and the rest folded) from one source.</summary>
    private static void AssertBounded(List<AuditEntry> records, TimeSpan elapsed, int calls)
    {
        var windows = (int)Math.Ceiling(elapsed.TotalSeconds) + 1;
        Assert.True(records.Count <= 2 * windows, $"{records.Count} records for {calls} calls in {elapsed.TotalSeconds:N1} s");
    }
}

/// <summary>
/// Newlines, carriage returns and escape sequences sent in a path or in x-purpose: the record holds none,
/// and what shows a record (the CLI, the audit trail) escapes any it finds (issue 11 finding 5).
/// </summary>
public sealed class AuditControlCharacterTests : IAsyncLifetime
{
    // Decoded by Kestrel into LF, CR and ESC [ 2 J (clear screen): a forged line and a terminal command.
    private const string HostilePath = "chain.signals.v1.SignalIntake/List%0A%20%20%20%20%20%20%20%201%202026-01-01%2000:00:00Z%20Allowed%0DMy%1B%5B2JSignals";
    private const string HostilePurpose = "signal\u001b]0;owned\u0007\u001b[31mling";

    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Control_characters_in_a_path_and_a_purpose_reach_neither_the_record_nor_the_cli()
    {
        var metadata = _mesh.As("police", null);
        metadata["x-purpose"] = HostilePurpose;

        var result = await _mesh.Raw.CallAsync(HostilePath, [[]], metadata);

        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
        var record = Assert.Single(await _mesh.AuditAsync());
        Assert.DoesNotContain(record.Method, char.IsControl);
        Assert.DoesNotContain(record.Purpose, char.IsControl);
        Assert.DoesNotContain(record.Reason, char.IsControl);
        Assert.Contains(AuditText.Replacement, record.Method);
        Assert.Contains(AuditText.Replacement, record.Purpose);
        var output = await CliAsync("partner", "police");
        Assert.DoesNotContain(output, c => char.IsControl(c) && c != '\n');
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_record_holding_raw_control_characters_is_shown_escaped_by_the_cli_and_the_trail()
    {
        await _mesh.Raw.CallAsync(Attacks.ListMySignals, [[]], _mesh.As("police", "signalling"));
        // A record as the log wrote them before it cleaned its text, put there behind the log's back.
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_mesh.DataDirectory, "gateway.db")}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "DROP TRIGGER audit_records_purge_only; UPDATE audit_records SET method = 'x' || char(10) || '       9 forged' || char(27) || '[2J', purpose = 'p' || char(13) || char(27) || ']0;t' || char(7) WHERE sequence = 1";
            await command.ExecuteNonQueryAsync();
        }

        var output = await CliAsync("partner", "police");
        var trail = await _mesh.Channel.AuditTrail().ListMyDecisionsAsync(new ListMyDecisionsRequest(), GatewayMesh.Options(_mesh.As("police", null))).ResponseAsync;

        Assert.DoesNotContain(output, c => char.IsControl(c) && c != '\n');
        Assert.DoesNotContain(output.Split('\n'), line => line.TrimStart().StartsWith("9 forged", StringComparison.Ordinal));
        var shown = trail.Decisions.First(d => d.Sequence == 1);
        Assert.DoesNotContain(shown.Method, char.IsControl);
        Assert.DoesNotContain(shown.Purpose, char.IsControl);
    }

    private async Task<string> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var exit = await AuditCommand.RunAsync(
            [.. args, $"--Mesh:DataDirectory={_mesh.DataDirectory}", $"--Database:ConnectionString=Data Source={Path.Combine(_mesh.DataDirectory, "gateway.db")}"],
            output, output);
        Assert.Equal(0, exit);
        return output.ToString();
    }
}

/// <summary>
/// The gateway's own services cost what they read: a page of N records ceil(N/100) permits from the
/// caller's bucket, reflection and named health one each; past it, RESOURCE_EXHAUSTED on record, and
/// others are served (issue 11 finding 7).
/// </summary>
public sealed class OwnServiceLimitTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true, settings: new()
    {
        ["Gateway:OwnServicesPermitsPerSecond"] = "1",
        ["Gateway:OwnServicesBurst"] = "10",
    });

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private AuditTrail.AuditTrailClient Trail => _mesh.Channel.AuditTrail();

    [Fact]
    public async Task A_second_full_page_at_once_is_resource_exhausted_on_record_and_another_partner_still_reads()
    {
        var police = GatewayMesh.Options(_mesh.As("police", null));

        var first = await Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest { PageSize = 1000 }, police).ResponseAsync;
        var second = await Assert.ThrowsAsync<RpcException>(() => Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest { PageSize = 1000 }, police).ResponseAsync);
        var care = await Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest { PageSize = 1000 }, GatewayMesh.Options(_mesh.As("care", null))).ResponseAsync;

        Assert.NotNull(first);
        Assert.Equal(StatusCode.ResourceExhausted, second.StatusCode);
        Assert.NotNull(care);
        Assert.Contains(await _mesh.AuditAsync(), e => e.PartnerId == "police" && e.Method == "chain.audit.v1.AuditTrail/ListMyDecisions"
            && e.Decision == AuditDecision.Denied && e.Reason.StartsWith("ResourceExhausted: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Small_pages_cost_less_than_a_full_one()
    {
        var police = GatewayMesh.Options(_mesh.As("police", null));

        // Ten pages of 100 spend the burst a single page of 1000 would.
        for (var i = 0; i < 10; i++)
        {
            await Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest { PageSize = 100 }, police).ResponseAsync;
        }
        var eleventh = await Assert.ThrowsAsync<RpcException>(() => Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest { PageSize = 100 }, police).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, eleventh.StatusCode);
    }

    [Fact]
    public async Task An_officers_search_is_charged_by_its_page_and_a_verification_as_the_largest_page()
    {
        var officer = GatewayMesh.Options(_mesh.AsOfficer());

        await Trail.SearchDecisionsAsync(new SearchDecisionsRequest { PageSize = 1000 }, officer).ResponseAsync;
        var search = await Assert.ThrowsAsync<RpcException>(() => Trail.SearchDecisionsAsync(new SearchDecisionsRequest { PageSize = 1000 }, officer).ResponseAsync);
        var verify = await Assert.ThrowsAsync<RpcException>(() => Trail.VerifyChainAsync(new VerifyChainRequest(), officer).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, search.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, verify.StatusCode);
    }

    [Fact]
    public async Task Named_health_checks_past_the_callers_permits_are_resource_exhausted()
    {
        var police = GatewayMesh.Options(_mesh.As("police", null));
        var statuses = new List<StatusCode>();

        for (var i = 0; i < 12; i++)
        {
            try
            {
                await _mesh.Channel.Health().CheckAsync(new HealthCheckRequest { Service = "chain.audit.v1.AuditTrail" }, police);
                statuses.Add(StatusCode.OK);
            }
            catch (RpcException e)
            {
                statuses.Add(e.StatusCode);
            }
        }

        Assert.Equal(StatusCode.OK, statuses[0]);
        Assert.Equal(StatusCode.ResourceExhausted, statuses[^1]);
        Assert.All(statuses, s => Assert.Contains(s, new[] { StatusCode.OK, StatusCode.ResourceExhausted }));
    }
}
