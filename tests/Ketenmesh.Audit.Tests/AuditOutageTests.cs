using System.Collections.Concurrent;
using System.Diagnostics;
using Ketenmesh.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Ketenmesh.Audit.Tests;

/// <summary>
/// The log fails closed without hanging: when its database fails, during a commit or a checkpoint and
/// with whatever exception, callers are refused within a bounded time, and the writer keeps going and
/// writes again once the database is back, on a chain without gap or fork.
/// </summary>
public sealed class AuditOutageTests(ITestOutputHelper output)
{
    public static TheoryData<string> Providers => ["Sqlite", "Postgres"];

    // Only guards the test against hanging when the code under test does: never the measure of a pass.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_checkpoint_failing_with_a_database_error_leaves_the_writer_running(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider, new() { ["Audit:CheckpointInterval"] = "1" });
        // The checkpoint's first query then fails with the provider's own exception (no such table), not
        // with the DbUpdateException that a failed SaveChanges would be wrapped in.
        await host.EditAsync("ALTER TABLE audit_checkpoints RENAME TO audit_checkpoints_away");

        Assert.Equal(1, await host.Log.AppendAsync(AuditHost.Entry(1)));
        // Queued behind the failed checkpoint: it is written only if the writer survived it.
        Assert.Equal(2, await host.Log.AppendAsync(AuditHost.Entry(2)).AsTask().WaitAsync(Guard));
        Assert.True(host.Log.Failures >= 1, "the checkpoint did not fail, so this test tested nothing");

        await host.EditAsync("ALTER TABLE audit_checkpoints_away RENAME TO audit_checkpoints");
        Assert.Equal(3, await host.Log.AppendAsync(AuditHost.Entry(3)).AsTask().WaitAsync(Guard));
        await host.StopAsync();

        var verification = await host.VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(3, verification.RecordsChecked);
        Assert.True(verification.CheckpointsChecked >= 1, "no checkpoint was written once the table was back");
    }

    [Fact]
    public async Task The_database_going_away_during_a_checkpoint_refuses_the_waiting_callers_and_the_writer_recovers_when_it_is_back()
    {
        // A long append timeout: what ends the checkpoint here must be the database going away, not the timeout.
        await using var host = await AuditHost.StartAsync("Postgres", new()
        {
            ["Audit:CheckpointInterval"] = "1",
            ["Audit:AppendTimeout"] = "00:00:20",
        });
        var database = host.Database;
        // Holds the checkpoint table, so the writer's first checkpoint waits inside the database.
        await using var locker = await OpenAsync(database);
        await using var hold = await locker.BeginTransactionAsync();
        await Execute(locker, "LOCK TABLE audit_checkpoints IN ACCESS EXCLUSIVE MODE");

        Assert.Equal(1, await host.Log.AppendAsync(AuditHost.Entry(1)).AsTask().WaitAsync(Guard));
        await Eventually.SucceedsAsync(async () => Assert.True(await WaitingOnLocksAsync(database) >= 1, "the checkpoint is not waiting yet"));
        var queued = host.Log.AppendAsync(AuditHost.Entry(2)).AsTask();

        await database.RefuseConnectionsAsync();

        // Refused by the writer, which went on past the checkpoint it lost, rather than by the caller's timeout.
        var refused = await Assert.ThrowsAsync<AuditUnavailableException>(() => queued.WaitAsync(Guard));
        Assert.IsNotType<TimeoutException>(refused.InnerException);
        await Assert.ThrowsAsync<AuditUnavailableException>(() => host.Log.AppendAsync(AuditHost.Entry(3)).AsTask().WaitAsync(Guard));

        await database.AllowConnectionsAsync();
        var restored = Stopwatch.StartNew();
        var sequence = await AppendOnceWritingAsync(host, 4);
        output.WriteLine($"written again {restored.ElapsedMilliseconds} ms after the database was back");
        await host.StopAsync();

        // Entries 2 and 3 never landed: the next one continues the chain right after entry 1.
        Assert.Equal(2, sequence);
        var verification = await host.VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(2, verification.RecordsChecked);
        Assert.True(verification.CheckpointsChecked >= 1, "no checkpoint after the database was back");
    }

    [Fact]
    public async Task A_full_disk_refuses_appends_and_they_are_written_again_once_there_is_room()
    {
        await using var host = await AuditHost.StartAsync("Postgres");
        Assert.Equal(1, await host.Log.AppendAsync(AuditHost.Entry(1)));
        // What PostgreSQL answers when the disk is full, for every new record.
        await host.EditAsync("""
            CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
            CREATE TRIGGER test_disk_full BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION test_disk_full();
            """);

        var refused = await Assert.ThrowsAsync<AuditUnavailableException>(() => host.Log.AppendAsync(AuditHost.Entry(2)).AsTask().WaitAsync(Guard));
        Assert.Equal(PostgresErrorCodes.DiskFull, Assert.IsType<PostgresException>(refused.InnerException).SqlState);

        await host.EditAsync("DROP TRIGGER test_disk_full ON audit_records");
        Assert.Equal(2, await AppendOnceWritingAsync(host, 3));
        await host.StopAsync();

        var verification = await host.VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(2, verification.RecordsChecked);
    }

    [Fact]
    public async Task A_commit_that_landed_but_was_reported_failed_is_neither_written_again_nor_forked_from()
    {
        await using var proxy = new CommitCuttingProxy();
        await using var host = await AuditHost.StartAsync("Postgres", route: proxy.Route);
        Assert.Equal(1, await host.Log.AppendAsync(AuditHost.Entry(1)));
        proxy.CutAfterNextCommit();

        // Refused, so its call never goes ahead, although its record is durable.
        await Assert.ThrowsAsync<AuditUnavailableException>(() => host.Log.AppendAsync(AuditHost.Entry(2)).AsTask().WaitAsync(Guard));
        Assert.Equal(1, proxy.Cuts);
        Assert.Equal(AuditHost.Entry(2).TraceId, (await host.RecordsAsync()).Single(r => r.Sequence == 2).Entry.TraceId);

        // The writer learns the head from the database: the next record follows the one that landed.
        Assert.Equal(3, await AppendOnceWritingAsync(host, 3));
        await host.StopAsync();
        var verification = await host.VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(3, verification.RecordsChecked);
    }

    [Fact]
    public async Task An_append_the_writer_cannot_finish_is_refused_after_the_append_timeout_and_the_writer_goes_on()
    {
        await using var host = await AuditHost.StartAsync("Postgres", new() { ["Audit:AppendTimeout"] = "00:00:01" });
        // A first record before the outage; on a loaded machine its commit alone may take the second, so it may be
        // tried again, and a try that was refused may still have landed: the head is wherever the last try left it.
        var head = await AppendOnceWritingAsync(host, 1);
        // The head row held by another session: the writer's commit waits on it and cannot finish.
        await using var locker = await OpenAsync(host.Database);
        await using var hold = await locker.BeginTransactionAsync();
        await Execute(locker, "SELECT * FROM audit_head FOR UPDATE");
        var waited = Stopwatch.StartNew();

        var refused = await Assert.ThrowsAsync<AuditUnavailableException>(() => host.Log.AppendAsync(AuditHost.Entry(2)).AsTask().WaitAsync(Guard));

        output.WriteLine($"refused after {waited.ElapsedMilliseconds} ms (Audit:AppendTimeout 1 s)");
        // The caller's own wait ran out, or the writer gave up the commit at the same bound.
        Assert.True(refused.InnerException is TimeoutException or OperationCanceledException, refused.InnerException?.ToString());
        await hold.RollbackAsync();
        // The writer goes on. The refused record may have landed after all: its commit was waiting on the lock when it
        // went, and the database's cancel of it can come too late (a CI run saw it). A record of a refused call may be
        // in the log; the chain must stay whole either way.
        var next = await AppendOnceWritingAsync(host, 3);
        Assert.True(next > head, $"record 3 at {next}, after the head at {head}");
        Assert.Equal(AuditHost.Entry(3).TraceId, (await host.RecordsAsync()).Single(r => r.Sequence == next).Entry.TraceId);
        await host.StopAsync();
        var verification = await host.VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(next, verification.RecordsChecked);
    }

    [Fact]
    public async Task An_append_ends_at_the_callers_own_deadline_when_that_comes_before_the_append_timeout()
    {
        await using var host = await AuditHost.StartAsync("Postgres", new() { ["Audit:AppendTimeout"] = "00:05:00" });
        Assert.Equal(1, await host.Log.AppendAsync(AuditHost.Entry(1)));
        await using var locker = await OpenAsync(host.Database);
        await using var hold = await locker.BeginTransactionAsync();
        await Execute(locker, "SELECT * FROM audit_head FOR UPDATE");
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => host.Log.AppendAsync(AuditHost.Entry(2), deadline.Token).AsTask().WaitAsync(Guard));

        // The writer is still in that commit; once the head is free again it lands, and the log goes on.
        await hold.RollbackAsync();
        Assert.Equal(3, await host.Log.AppendAsync(AuditHost.Entry(3)).AsTask().WaitAsync(Guard));
        await host.StopAsync();
        Assert.True((await host.VerifyAsync()).Intact);
    }

    [Fact]
    public async Task Killing_the_database_under_load_refuses_appends_in_bounded_time_and_every_acknowledged_one_is_in_the_intact_chain()
    {
        const int Writers = 24;
        var appendTimeout = TimeSpan.FromSeconds(2);
        // Each append's own deadline, far beyond the append timeout: an append cancelled by it hung.
        var callDeadline = TimeSpan.FromSeconds(10);
        await using var host = await AuditHost.StartAsync("Postgres", new()
        {
            ["Audit:AppendTimeout"] = appendTimeout.ToString(),
            // Frequent checkpoints, so the kill also finds the writer inside one sometimes.
            ["Audit:CheckpointInterval"] = "25",
        });
        var load = new AppendLoad(host.Log, callDeadline);
        var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(load.RunAsync)).ToArray();

        await load.UntilAsync(o => o.Sequence is not null, 300);
        var killed = load.Clock.Elapsed;
        var failuresBefore = host.Log.Failures;
        await host.Database.RefuseConnectionsAsync();
        await load.UntilAsync(o => o.Refused && o.Started > killed, 200);
        // The writer tried the dead database again several times, backing off in between, and went on.
        await Eventually.SucceedsAsync(() =>
        {
            Assert.True(host.Log.Failures - failuresBefore >= 4, $"{host.Log.Failures - failuresBefore} failed attempts so far");
            return Task.CompletedTask;
        }, Guard);
        var restoredAt = load.Clock.Elapsed;
        await host.Database.AllowConnectionsAsync();
        await load.UntilAsync(o => o.Sequence is not null && o.Started > restoredAt, 300);
        load.Stop();
        await Task.WhenAll(writers).WaitAsync(Guard);

        var outcomes = load.Outcomes.ToList();
        var written = outcomes.Where(o => o.Sequence is not null).ToList();
        var refused = outcomes.Where(o => o.Refused).ToList();
        var firstRefused = refused.Where(o => o.Started > killed).Min(o => o.Ended);
        var firstAgain = written.Where(o => o.Started > restoredAt).Min(o => o.Ended);
        output.WriteLine($"{outcomes.Count} appends: {written.Count} written, {refused.Count} refused, {host.Log.Failures} failed commits or checkpoints");
        output.WriteLine($"first refusal {(firstRefused - killed).TotalMilliseconds:N0} ms after the kill; refused appends took at most {refused.Max(o => o.Took).TotalMilliseconds:N0} ms (append timeout {appendTimeout.TotalMilliseconds:N0} ms)");
        output.WriteLine($"written again {(firstAgain - restoredAt).TotalMilliseconds:N0} ms after the database was back; slowest written append {written.Max(o => o.Took).TotalMilliseconds:N0} ms");

        // No append hung: each one was written or refused before its own deadline.
        Assert.DoesNotContain(outcomes, o => o.DeadlineExceeded);
        Assert.Equal(outcomes.Count, written.Count + refused.Count);
        await host.StopAsync();
        // Every append acknowledged as written is in the chain, at the sequence it was given.
        var records = (await host.RecordsAsync()).ToDictionary(r => r.Sequence, r => r.Entry.TraceId);
        Assert.All(written, o => Assert.Equal(o.TraceId, records.GetValueOrDefault(o.Sequence!.Value)));
        output.WriteLine($"{records.Count - written.Count} records of appends refused while their commit was under way");
        // The writer went on without a restart, on a chain without gap or fork.
        var verification = await host.VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(records.Count, verification.RecordsChecked);
        Assert.True(verification.CheckpointsChecked >= 1);
    }

    /// <summary>Appends until one is written again, as a caller retrying after UNAVAILABLE would; returns its sequence.</summary>
    private static async Task<long> AppendOnceWritingAsync(AuditHost host, int n)
    {
        long sequence = 0;
        await Eventually.SucceedsAsync(async () =>
        {
            try
            {
                sequence = await host.Log.AppendAsync(AuditHost.Entry(n));
            }
            catch (AuditUnavailableException e)
            {
                Assert.Fail($"still refused: {e.InnerException?.Message}");
            }
        });
        return sequence;
    }

    private static async Task<NpgsqlConnection> OpenAsync(TestDatabase database)
    {
        // Unpooled: a session of its own, which the outage ends like any other.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> WaitingOnLocksAsync(TestDatabase database)
    {
        await using var connection = await OpenAsync(database);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private sealed record Outcome(string TraceId, TimeSpan Started, TimeSpan Ended, long? Sequence, bool Refused, bool DeadlineExceeded)
    {
        public TimeSpan Took => Ended - Started;
    }

    /// <summary>Writers appending as fast as they are answered, each append with its own deadline.</summary>
    private sealed class AppendLoad(AuditLog log, TimeSpan callDeadline)
    {
        private int _next;
        private volatile bool _stopped;

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public ConcurrentQueue<Outcome> Outcomes { get; } = new();

        public void Stop() => _stopped = true;

        public async Task RunAsync()
        {
            while (!_stopped)
            {
                var n = Interlocked.Increment(ref _next);
                var entry = AuditHost.Entry(n);
                var started = Clock.Elapsed;
                using var deadline = new CancellationTokenSource(callDeadline);
                try
                {
                    var sequence = await log.AppendAsync(entry, deadline.Token);
                    Outcomes.Enqueue(new Outcome(entry.TraceId!, started, Clock.Elapsed, sequence, false, false));
                }
                catch (AuditUnavailableException)
                {
                    Outcomes.Enqueue(new Outcome(entry.TraceId!, started, Clock.Elapsed, null, true, false));
                    // A caller refused comes back a little later, not in a tight loop.
                    await Task.Delay(10);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested)
                {
                    Outcomes.Enqueue(new Outcome(entry.TraceId!, started, Clock.Elapsed, null, false, true));
                }
            }
        }

        /// <summary>Until <paramref name="count"/> outcomes match; fails the test if they do not come within a minute.</summary>
        public Task UntilAsync(Func<Outcome, bool> match, int count) => Eventually.SucceedsAsync(() =>
        {
            var seen = Outcomes.Count(match);
            Assert.True(seen >= count, $"{seen} of {count} outcomes so far");
            return Task.CompletedTask;
        }, Guard);
    }
}
