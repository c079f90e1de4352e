using System.Collections.Concurrent;
using System.Diagnostics;
using Chain.Risk.V1;
using Grpc.Core;
using Ketenmesh.Audit;
using Ketenmesh.Audit.Chain;
using Ketenmesh.Audit.Reading;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// The gateway fails closed without hanging: its audit database is killed while partners call through
/// it, and comes back, while the gateway keeps running.
/// </summary>
public sealed class AuditOutageTests(ITestOutputHelper output)
{
    private const string Method = "chain.risk.v1.RiskAssessment/GetAssessment";

    // Only guards the test against hanging when the code under test does: never the measure of a pass.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Killing_the_audit_database_under_load_answers_unavailable_before_any_deadline_forwards_nothing_unrecorded_and_recovers_without_a_restart()
    {
        const int Callers = 16;
        var appendTimeout = TimeSpan.FromSeconds(2);
        // Each call's deadline, far beyond the append timeout: a call that ends in DEADLINE_EXCEEDED hung.
        var callDeadline = TimeSpan.FromSeconds(10);
        await using var database = await TestDatabase.CreateAsync("gateway_audit");
        await using var mesh = await GatewayMesh.StartAsync(settings: new()
        {
            ["Components:gateway:Database:Provider"] = "Postgres",
            ["Components:gateway:Database:ConnectionString"] = database.ConnectionString,
            ["Components:gateway:Audit:AppendTimeout"] = appendTimeout.ToString(),
            // Frequent checkpoints, so the kill also finds the writer inside one sometimes.
            ["Components:gateway:Audit:CheckpointInterval"] = "25",
            // The load is the audit's test, not the rate limiter's.
            ["Gateway:RateLimitPerSecond"] = "1000000",
            ["Gateway:RateLimitBurst"] = "1000000",
        });
        var log = mesh.Services.GetRequiredService<AuditLog>();
        var load = new CallLoad(mesh.Channel.Risk(), mesh.As("police", "criminal_investigation"), callDeadline);
        var callers = Enumerable.Range(0, Callers).Select(_ => Task.Run(load.RunAsync)).ToArray();

        await load.UntilAsync(o => o.Status == StatusCode.OK, 200);
        var failuresBefore = log.Failures;
        var killed = load.Clock.Elapsed;
        await database.RefuseConnectionsAsync();
        await load.UntilAsync(o => o.Status == StatusCode.Unavailable && o.Started > killed, 200);
        // The writer tried the dead database again several times, backing off in between, and went on.
        await Eventually.SucceedsAsync(() =>
        {
            Assert.True(log.Failures - failuresBefore >= 4, $"{log.Failures - failuresBefore} failed attempts so far");
            return Task.CompletedTask;
        }, Guard);
        var restored = load.Clock.Elapsed;
        await database.AllowConnectionsAsync();
        await load.UntilAsync(o => o.Status == StatusCode.OK && o.Started > restored, 200);
        load.Stop();
        await Task.WhenAll(callers).WaitAsync(Guard);

        var outcomes = load.Outcomes.ToList();
        var ok = outcomes.Where(o => o.Status == StatusCode.OK).ToList();
        var unavailable = outcomes.Where(o => o.Status == StatusCode.Unavailable).ToList();
        output.WriteLine($"{outcomes.Count} calls: {ok.Count} OK, {unavailable.Count} UNAVAILABLE, {log.Failures - failuresBefore} failed commits or checkpoints during the outage");
        output.WriteLine($"first UNAVAILABLE {(unavailable.Where(o => o.Started > killed).Min(o => o.Ended) - killed).TotalMilliseconds:N0} ms after the kill; " +
            $"UNAVAILABLE calls took at most {unavailable.Max(o => o.Took).TotalMilliseconds:N0} ms, median {Median(unavailable):N1} ms (append timeout {appendTimeout.TotalMilliseconds:N0} ms, deadline {callDeadline.TotalMilliseconds:N0} ms)");
        output.WriteLine($"first OK {(ok.Where(o => o.Started > restored).Min(o => o.Ended) - restored).TotalMilliseconds:N0} ms after the database was back; slowest OK call {ok.Max(o => o.Took).TotalMilliseconds:N0} ms");

        // No call hung: every one ended before its deadline, answered or refused as UNAVAILABLE by the audit.
        Assert.DoesNotContain(outcomes, o => o.Status == StatusCode.DeadlineExceeded);
        Assert.Equal(outcomes.Count, ok.Count + unavailable.Count);
        Assert.All(unavailable, o => Assert.Contains("cannot record decisions", o.Detail));

        // No call was forwarded without its record: every call the service received has an allowed
        // decision on record under its trace id, and every OK answer came from the service.
        var recorded = (await AllRecordsAsync(mesh)).Where(r => r.Entry.Decision == AuditDecision.Allowed).Select(r => r.Entry.TraceId).ToHashSet();
        var forwarded = mesh.Upstream.Calls.Where(c => c.Method == Method).Select(c => TraceId(c.Headers["traceparent"].ToString())).ToList();
        output.WriteLine($"{forwarded.Count} calls forwarded, {recorded.Count} allowed decisions on record");
        Assert.All(forwarded, trace => Assert.Contains(trace, recorded));
        Assert.True(forwarded.Count >= ok.Count, $"{ok.Count} OK answers but only {forwarded.Count} calls reached the service");

        // The same gateway, never restarted, writes a chain without gap or fork.
        await using var scope = mesh.Services.CreateAsyncScope();
        var verification = await scope.ServiceProvider.GetRequiredService<AuditVerifier>().VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.True(verification.CheckpointsChecked >= 1);
    }

    [Fact]
    public async Task A_hung_audit_database_turns_calls_into_unavailable_at_the_append_timeout_long_before_their_deadline()
    {
        await using var database = await TestDatabase.CreateAsync("gateway_audit");
        await using var mesh = await GatewayMesh.StartAsync(settings: new()
        {
            ["Components:gateway:Database:Provider"] = "Postgres",
            ["Components:gateway:Database:ConnectionString"] = database.ConnectionString,
            ["Components:gateway:Audit:AppendTimeout"] = "00:00:01",
        });
        var police = mesh.As("police", "criminal_investigation");
        var risk = mesh.Channel.Risk();
        await risk.GetAssessmentAsync(new GetAssessmentRequest(), GatewayMesh.Options(police));
        // The head row held by another session: the writer's commit waits in the database, neither failing nor finishing.
        await using var locker = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString);
        await locker.OpenAsync();
        await using var hold = await locker.BeginTransactionAsync();
        await using (var command = new Npgsql.NpgsqlCommand("SELECT * FROM audit_head FOR UPDATE", locker, hold))
        {
            await command.ExecuteNonQueryAsync();
        }
        var waited = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            risk.GetAssessmentAsync(new GetAssessmentRequest(), GatewayMesh.Options(police, DateTime.UtcNow.AddMinutes(1))).ResponseAsync.WaitAsync(Guard));

        output.WriteLine($"UNAVAILABLE after {waited.ElapsedMilliseconds} ms (Audit:AppendTimeout 1 s, deadline 60 s)");
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        await hold.RollbackAsync();
        await Eventually.SucceedsAsync(async () => await risk.GetAssessmentAsync(new GetAssessmentRequest(), GatewayMesh.Options(police)), Guard);
        // Only the calls answered OK reached the service; the refused one was never forwarded.
        Assert.Equal(2, mesh.Upstream.Calls.Count(c => c.Method == Method));
    }

    private static string TraceId(string traceParent) => traceParent.Substring(3, 32);

    private static double Median(List<Outcome> outcomes) =>
        outcomes.Select(o => o.Took.TotalMilliseconds).Order().ElementAt(outcomes.Count / 2);

    private static async Task<List<StoredAuditEntry>> AllRecordsAsync(GatewayMesh mesh)
    {
        await using var scope = mesh.Services.CreateAsyncScope();
        var reader = scope.ServiceProvider.GetRequiredService<AuditReader>();
        var all = new List<StoredAuditEntry>();
        while (await reader.RangeAsync(all.Count == 0 ? 1 : all[^1].Sequence + 1, 10_000) is { Count: > 0 } page)
        {
            all.AddRange(page);
        }
        return all;
    }

    private sealed record Outcome(StatusCode Status, string Detail, TimeSpan Started, TimeSpan Ended)
    {
        public TimeSpan Took => Ended - Started;
    }

    /// <summary>Partners calling as fast as they are answered, each call with its own deadline.</summary>
    private sealed class CallLoad(RiskAssessment.RiskAssessmentClient client, Dictionary<string, string> metadata, TimeSpan callDeadline)
    {
        private volatile bool _stopped;

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public ConcurrentQueue<Outcome> Outcomes { get; } = new();

        public void Stop() => _stopped = true;

        public async Task RunAsync()
        {
            while (!_stopped)
            {
                var started = Clock.Elapsed;
                var options = GatewayMesh.Options(metadata, DateTime.UtcNow + callDeadline);
                try
                {
                    await client.GetAssessmentAsync(new GetAssessmentRequest(), options);
                    Outcomes.Enqueue(new Outcome(StatusCode.OK, "", started, Clock.Elapsed));
                }
                catch (RpcException e)
                {
                    Outcomes.Enqueue(new Outcome(e.StatusCode, e.Status.Detail, started, Clock.Elapsed));
                    // A partner refused comes back a little later, not in a tight loop.
                    await Task.Delay(10);
                }
            }
        }

        /// <summary>Until <paramref name="count"/> outcomes match; fails the test if they do not come in time.</summary>
        public Task UntilAsync(Func<Outcome, bool> match, int count) => Eventually.SucceedsAsync(() =>
        {
            var seen = Outcomes.Count(match);
            Assert.True(seen >= count, $"{seen} of {count} outcomes so far");
            return Task.CompletedTask;
        }, Guard);
    }
}
