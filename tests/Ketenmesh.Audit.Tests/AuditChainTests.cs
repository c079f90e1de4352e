using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Ketenmesh.Audit.Chain;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Ketenmesh.Audit.Tests;

public sealed class AuditChainTests(ITestOutputHelper output)
{
    public static TheoryData<string> Providers => ["Sqlite", "Postgres"];

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Concurrent_appends_share_transactions_and_the_chain_verifies(string provider)
    {
        // 2,000 appends wait at once: under a loaded CI machine the last ones wait longer than the default
        // append timeout (5 s), which is about outages, not this test's subject (sharing transactions).
        await using var host = await AuditHost.StartAsync(provider, new() { ["Audit:AppendTimeout"] = "00:01:00" });
        var started = System.Diagnostics.Stopwatch.StartNew();

        var sequences = await Task.WhenAll(Enumerable.Range(1, 2000).Select(n => host.Log.AppendAsync(AuditHost.Entry(n)).AsTask()));

        var elapsed = started.Elapsed;
        output.WriteLine($"{provider}: 2000 concurrent appends in {elapsed.TotalMilliseconds:N0} ms, {host.Log.Transactions} transactions");
        Assert.Equal(Enumerable.Range(1, 2000).Select(n => (long)n), sequences.Order());
        Assert.True(host.Log.Transactions < 500, $"{host.Log.Transactions} transactions for 2000 records in {elapsed.TotalMilliseconds:N0} ms");
        var verification = await host.VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(2000, verification.RecordsChecked);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Every_commit_is_measured_with_the_records_it_made_durable(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider, new() { ["Audit:AppendTimeout"] = "00:01:00" });
        // Only this host's log: every test's log measures into a meter of its own host.
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        var measured = new ConcurrentBag<(double Seconds, int Records)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == AuditMetrics.CommitDurationName && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            var records = 0;
            foreach (var tag in tags)
            {
                records = tag.Key == AuditMetrics.RecordsTag ? Convert.ToInt32(tag.Value, System.Globalization.CultureInfo.InvariantCulture) : records;
            }
            measured.Add((seconds, records));
        });
        listener.Start();

        for (var n = 1; n <= 10; n++)
        {
            await host.Log.AppendAsync(AuditHost.Entry(n));
        }
        await Task.WhenAll(Enumerable.Range(11, 200).Select(n => host.Log.AppendAsync(AuditHost.Entry(n)).AsTask()));

        Assert.Equal(host.Log.Transactions, measured.Count);
        Assert.Equal(210, measured.Sum(m => m.Records));
        Assert.All(measured, m => Assert.True(m.Seconds > 0, $"a commit measured {m.Seconds} s"));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Two_gateways_on_one_log_take_turns_and_the_chain_stays_whole(string provider)
    {
        await using var first = await AuditHost.StartAsync(provider);
        await using var second = await first.StartBesideAsync();

        // Each writer learns the head once and must notice every time the other one moved it.
        var sequences = new List<long>();
        for (var round = 0; round < 20; round++)
        {
            var writes = Enumerable.Range(0, 10).Select(n => (n % 2 == 0 ? first : second).Log.AppendAsync(AuditHost.Entry(round * 10 + n)).AsTask());
            sequences.AddRange(await Task.WhenAll(writes));
        }

        Assert.Equal(Enumerable.Range(1, 200).Select(n => (long)n), sequences.Order());
        var verification = await first.VerifyAsync();
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(200, verification.RecordsChecked);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Changed_record_is_detected_at_its_sequence(string provider)
    {
        await using var host = await WrittenAsync(provider, 20);

        await host.TamperAsync("UPDATE audit_records SET reason = 'nothing to see' WHERE sequence = 7");

        var problem = Assert.Single((await host.VerifyAsync()).Problems);
        Assert.Equal((7L, AuditProblemKind.Changed), (problem.Sequence, problem.Kind));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_record_emptied_like_a_purge_before_its_retention_ended_is_reported(string provider)
    {
        await using var host = await WrittenAsync(provider, 20);

        // What the append-only trigger lets through, as a purge does: the content gone, digest and link kept.
        await host.TamperAsync("""
            UPDATE audit_records SET purged_at_ms = 1, time_ms = NULL, partner_id = NULL, purpose = NULL, method = NULL, decision = NULL,
              reason = NULL, grant_id = NULL, grant_version_hash = NULL, legal_basis = NULL, trace_id = NULL, subject_pseudonym = NULL
            WHERE sequence = 7
            """);

        var verification = await host.VerifyAsync();
        var problem = Assert.Single(verification.Problems);
        Assert.Equal((7L, AuditProblemKind.PurgedEarly), (problem.Sequence, problem.Kind));
        Assert.Equal(1, verification.Purged);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_record_written_in_behind_the_gateways_back_is_never_linked_onto_or_signed_and_is_reported(string provider)
    {
        // Checkpoints come every two records here, so the log is one this gateway has signed, as any is after its first minute.
        await using var host = await AuditHost.StartAsync(provider, new() { ["Audit:CheckpointInterval"] = "2" });
        for (var n = 1; n <= 5; n++)
        {
            await host.Log.AppendAsync(AuditHost.Entry(n));
        }

        // As someone with write access to the database but not the key could: a record with the right digest and link,
        // framing the police for a read of a victim's registration, and the head moved onto it.
        await WriteInAsync(host, AuditHost.Entry(6, subject: "registration_id:reg-framed"), seal: null);

        var refused = await Assert.ThrowsAsync<AuditUnavailableException>(() => host.Log.AppendAsync(AuditHost.Entry(7)).AsTask());
        await host.StopAsync();
        var verification = await host.VerifyAsync();
        var lastCheckpoint = await host.WithScopeAsync(s => s.GetRequiredService<Storage.AuditDbContext>().Checkpoints.MaxAsync(c => (long?)c.Sequence));

        Assert.IsType<Storage.UnsealedAuditHeadException>(refused.InnerException);
        var problem = Assert.Single(verification.Problems);
        Assert.Equal((6L, AuditProblemKind.Unsealed), (problem.Sequence, problem.Kind));
        Assert.True(lastCheckpoint is null or < 6, $"a checkpoint was signed at {lastCheckpoint}, over the record written in");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_checkpoint_row_inserted_past_the_chains_end_neither_hides_a_record_written_in_nor_goes_unreported(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        for (var n = 1; n <= 5; n++)
        {
            await host.Log.AppendAsync(AuditHost.Entry(n));
        }
        await host.StopAsync();
        await WriteInAsync(host, AuditHost.Entry(6, subject: "registration_id:reg-framed"), seal: null);
        // Inserting is what the append-only triggers allow, with no key needed for a row that does not verify.
        var zero = provider == "Postgres" ? "'\\x00'::bytea" : "x'00'";
        await host.EditAsync($"INSERT INTO audit_checkpoints (sequence, hash, created_at_ms, key_id, signature) VALUES (1000000000000, {zero}, 0, 'junk', {zero})");

        var whole = await host.VerifyAsync();
        var sliced = await host.WithScopeAsync(s => s.GetRequiredService<AuditVerifier>().VerifySliceAsync(1, 100, Timeout.InfiniteTimeSpan));

        foreach (var verification in new[] { whole, sliced })
        {
            Assert.Contains(verification.Problems, p => (p.Sequence, p.Kind) == (6, AuditProblemKind.Unsealed));
            Assert.Contains(verification.Problems, p => (p.Sequence, p.Kind) == (1_000_000_000_000, AuditProblemKind.UnknownCheckpointKey));
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_retired_keys_seal_counts_no_more_once_the_current_key_has_checkpointed(string provider)
    {
        await using var before = await AuditHost.StartAsync(provider);
        await before.Log.AppendAsync(AuditHost.Entry(1));
        await before.StopAsync();
        var (retired, _) = CheckpointSigner.Rotate(before.KeyFile);
        await using (var after = await before.StartBesideAsync())
        {
            await after.Log.AppendAsync(AuditHost.Entry(2));
        }

        // Whoever kept the retired key's seal key (or the key itself) seals a record after the current key's checkpoint.
        var oldSealKey = Convert.FromBase64String(await File.ReadAllTextAsync(Path.Combine(before.KeyFile + ".retired", retired + ".seal")));
        await WriteInAsync(before, AuditHost.Entry(3, subject: "registration_id:reg-framed"), seal: (sequence, hash) =>
        {
            var payload = new byte[8 + hash.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(payload, sequence);
            hash.CopyTo(payload, 8);
            return System.Security.Cryptography.HMACSHA256.HashData(oldSealKey, payload);
        });
        await using var later = await before.StartBesideAsync();

        var refused = await Assert.ThrowsAsync<AuditUnavailableException>(() => later.Log.AppendAsync(AuditHost.Entry(4)).AsTask());
        var verification = await later.VerifyAsync();

        Assert.IsType<Storage.UnsealedAuditHeadException>(refused.InnerException);
        var problem = Assert.Single(verification.Problems);
        Assert.Equal((3L, AuditProblemKind.Unsealed), (problem.Sequence, problem.Kind));
    }

    /// <summary>A record with the right digest and link put in as someone with write access to the database could, and the head moved onto it.</summary>
    private static Task<int> WriteInAsync(AuditHost host, AuditEntry entry, Func<long, byte[], byte[]>? seal) => host.WithScopeAsync(async s =>
    {
        var db = s.GetRequiredService<Storage.AuditDbContext>();
        var head = await db.Head.SingleAsync();
        var digest = CanonicalEntry.Digest(entry);
        var hash = CanonicalEntry.Link(head.LastHash, digest);
        var sequence = head.LastSequence + 1;
        var sealed_ = seal?.Invoke(sequence, hash);
        db.Records.Add(Storage.AuditRecordRow.From(sequence, entry, digest, hash, sealed_));
        (head.LastSequence, head.LastHash, head.LastSeal) = (sequence, hash, sealed_);
        return await db.SaveChangesAsync();
    });

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Deleted_record_is_detected_as_missing(string provider)
    {
        await using var host = await WrittenAsync(provider, 20);

        await host.TamperAsync("DELETE FROM audit_records WHERE sequence = 12");

        var problems = (await host.VerifyAsync()).Problems;
        Assert.Contains(problems, p => p.Sequence == 12 && p.Kind == AuditProblemKind.Missing);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Swapped_records_are_detected_as_reordered(string provider)
    {
        await using var host = await WrittenAsync(provider, 20);

        // Move whole rows, digests and hashes included: every row is self-consistent, only the order is wrong.
        await host.TamperAsync("UPDATE audit_records SET sequence = -5 WHERE sequence = 5");
        await host.TamperAsync("UPDATE audit_records SET sequence = 5 WHERE sequence = 6");
        await host.TamperAsync("UPDATE audit_records SET sequence = 6 WHERE sequence = -5");

        var problems = (await host.VerifyAsync()).Problems;
        Assert.Contains(problems, p => p.Sequence == 5 && p.Kind == AuditProblemKind.Reordered);
        Assert.DoesNotContain(problems, p => p.Kind == AuditProblemKind.Changed);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Cutting_off_the_newest_records_is_detected_by_the_checkpoint(string provider)
    {
        await using var host = await WrittenAsync(provider, 20);

        await host.TamperAsync("DELETE FROM audit_records WHERE sequence > 17");
        await host.TamperAsync("UPDATE audit_head SET last_sequence = 17");

        var problems = (await host.VerifyAsync()).Problems;
        Assert.Contains(problems, p => p.Sequence == 20 && p.Kind == AuditProblemKind.Missing);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Forged_checkpoint_is_detected(string provider)
    {
        await using var host = await WrittenAsync(provider, 20);

        // Point the checkpoint at another hash without the signing key: the signature no longer fits.
        await host.TamperAsync("UPDATE audit_checkpoints SET hash = (SELECT digest FROM audit_records WHERE sequence = 3)");

        var problem = Assert.Single((await host.VerifyAsync()).Problems);
        Assert.Equal(AuditProblemKind.BadCheckpointSignature, problem.Kind);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Checkpoints_signed_before_the_key_was_rotated_still_verify_beside_those_signed_after(string provider)
    {
        await using var before = await WrittenAsync(provider, 10);
        var (retired, current) = CheckpointSigner.Rotate(before.KeyFile);
        await using var after = await before.StartBesideAsync();
        for (var n = 11; n <= 20; n++)
        {
            await after.Log.AppendAsync(AuditHost.Entry(n));
        }
        await after.StopAsync();

        var verification = await after.VerifyAsync();

        Assert.NotEqual(retired, current);
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.Equal(2, verification.CheckpointsChecked);
        var signers = await after.WithScopeAsync(s => s.GetRequiredService<Storage.AuditDbContext>().Checkpoints.Select(c => c.KeyId).ToListAsync());
        Assert.Equal([retired, current], signers);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Records_sealed_before_a_rotation_and_under_no_checkpoint_yet_are_still_the_gateways_own(string provider)
    {
        await using var before = await AuditHost.StartAsync(provider);
        for (var n = 1; n <= 5; n++)
        {
            await before.Log.AppendAsync(AuditHost.Entry(n));
        }
        CheckpointSigner.Rotate(before.KeyFile);

        // A gateway started on the new key finds a head sealed with the old one, and no checkpoint over it.
        await using var after = await before.StartBesideAsync();
        var sequence = await after.Log.AppendAsync(AuditHost.Entry(6));
        var verification = await after.VerifyAsync();

        Assert.Equal(6, sequence);
        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_checkpoint_whose_key_was_replaced_instead_of_rotated_is_named_unknown_not_forged(string provider)
    {
        await using var before = await WrittenAsync(provider, 10);
        File.Delete(before.KeyFile);
        await using var after = await before.StartBesideAsync();

        // A data directory made anew beside a database that stayed: the gateway goes on with the chain it finds.
        var next = await after.Log.AppendAsync(AuditHost.Entry(11));
        var problems = (await after.VerifyAsync()).Problems;

        Assert.Equal(11, next);
        // The records its checkpoint vouched for carry seals of the lost key too: unproven, one finding for the run.
        Assert.Equal([(1L, AuditProblemKind.Unsealed), (10L, AuditProblemKind.UnknownCheckpointKey)], problems.Select(p => (p.Sequence, p.Kind)));
        Assert.Contains("records 1..10", problems[0].Detail);
    }

    [Fact]
    public void A_retired_key_file_renamed_to_another_keys_id_vouches_only_for_its_own_key()
    {
        var directory = Directory.CreateTempSubdirectory("ketenmesh-keys-").FullName;
        try
        {
            var path = Path.Combine(directory, "audit-checkpoint-key.pkcs8");
            var (first, _) = CheckpointSigner.Rotate(path);
            File.Move(Path.Combine(path + ".retired", first + ".pub"), Path.Combine(path + ".retired", "0000000000000000.pub"));

            using var signer = CheckpointSigner.OpenOrCreate(path);

            Assert.Equal([first], signer.RetiredKeyIds);
            Assert.Equal(CheckpointSignature.UnknownKey, signer.Check("0000000000000000", 1, new byte[32], new byte[64]));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Untouched_log_has_no_problems_and_a_checkpoint_at_every_interval(string provider)
    {
        await using var host = await WrittenAsync(provider, 25, interval: 10);

        var verification = await host.VerifyAsync();

        Assert.True(verification.Intact, string.Join("; ", verification.Problems));
        Assert.True(verification.CheckpointsChecked >= 3, $"{verification.CheckpointsChecked} checkpoints");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Nothing_can_be_appended_after_the_log_stopped(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        var accepted = host.Log.AppendAsync(AuditHost.Entry(1));

        await host.StopAsync();

        Assert.Equal(1, await accepted);
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.Log.AppendAsync(AuditHost.Entry(2)).AsTask());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_failed_commit_fails_every_waiting_caller(string provider)
    {
        await using var host = await AuditHost.StartAsync(provider);
        await host.Log.AppendAsync(AuditHost.Entry(1));
        await host.TamperAsync("DROP TABLE audit_records");

        var error = await Assert.ThrowsAsync<AuditUnavailableException>(() => host.Log.AppendAsync(AuditHost.Entry(4)).AsTask());

        Assert.NotNull(error.InnerException);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_database_refuses_edits_and_deletes_of_records_and_checkpoints(string provider)
    {
        await using var host = await WrittenAsync(provider, 5);

        foreach (var sql in new[]
        {
            "UPDATE audit_records SET reason = 'x' WHERE sequence = 2",
            "DELETE FROM audit_records WHERE sequence = 5",
            "UPDATE audit_checkpoints SET hash = hash",
            "DELETE FROM audit_checkpoints",
        })
        {
            await Assert.ThrowsAnyAsync<Exception>(() => host.EditAsync(sql));
        }
        Assert.True((await host.VerifyAsync()).Intact);
    }

    /// <summary>A log with <paramref name="count"/> records, stopped so its last checkpoint is written.</summary>
    private static async Task<AuditHost> WrittenAsync(string provider, int count, int interval = 1000)
    {
        var host = await AuditHost.StartAsync(provider, new() { ["Audit:CheckpointInterval"] = interval.ToString() });
        for (var n = 1; n <= count; n++)
        {
            await host.Log.AppendAsync(AuditHost.Entry(n));
        }
        await host.StopAsync();
        return host;
    }
}
