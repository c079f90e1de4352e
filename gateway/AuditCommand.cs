using System.Data.Common;
using Ketenmesh.Audit;
using Ketenmesh.Audit.Chain;
using Ketenmesh.Audit.Reading;

namespace Ketenmesh.Gateway;

/// <summary>
/// <c>Ketenmesh.Gateway audit …</c> (behind <c>./mesh audit</c>), for privacy officers on the gateway's
/// audit database: <c>verify</c> recomputes the chain and checks its signed checkpoints (exit 0 intact,
/// 1 tampered) with the same <see cref="AuditVerifier"/> as the gateway's VerifyChain, and names the last checkpoint; <c>partner</c> lists one partner's own records; <c>subject</c> makes a data-subject
/// access report; <c>release</c> releases a confidential record for such reports; <c>purge</c> applies
/// retention; <c>keys</c> prints the checkpoint keys' public halves; <c>rotate-key</c> retires the checkpoint key. Exit 2 on a usage error. Record text is printed as the reader gives it, control characters
/// replaced (<see cref="AuditReader"/>), and a record that stands for several folded refusals shows its count (×N).
/// </summary>
public static class AuditCommand
{
    private const string Usage = """
        usage: audit verify                                  check the chain and its signed checkpoints
               audit partner <partner-id>                    that partner's own records (last 30 days)
               audit subject <pseudonym>                     data-subject access report, e.g. registration_id:reg-1
               audit release <sequence> <officer> <reason>   release a confidential record for subject reports
               audit purge                                   apply retention (content of old records to tombstones)
               audit keys                                    the checkpoint keys' public halves (PEM), current and retired
               audit rotate-key                              retire the checkpoint key (its public half kept) and make a new one
        options: --Database:Provider=Postgres --Database:ConnectionString=... --Audit:KeyFile=...
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        var valid = (positional.FirstOrDefault(), positional.Count) is ("verify" or "purge" or "keys" or "rotate-key", 1) or ("partner" or "subject", 2) or ("release", 4);
        if (!valid)
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddCommandLine(args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToArray())
            .Build();
        if (positional[0] == "rotate-key")
        {
            // The key file alone: a rotation needs no database, and one that is down must not stop it.
            var (retired, current) = CheckpointSigner.Rotate(ServiceCollectionExtensions.KeyFile(configuration));
            await output.WriteLineAsync($"Checkpoint key {retired} retired (its public half kept, so its checkpoints still verify); new key {current}. The gateway signs with it from its next start.");
            return 0;
        }
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAuditLog(configuration);
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        try
        {
            return await RunAsync(positional, scope.ServiceProvider, output, error);
        }
        catch (DbException e)
        {
            // No log where we looked (the mesh never ran with this data directory, or another profile's
            // database is meant) or a database that is down: say where to look, not a stack trace.
            await error.WriteLineAsync($"""
                The audit log could not be read: {e.Message}
                ./mesh audit reads the embedded mesh's log in .mesh/data (start ./mesh up first); ./mesh audit --real reads the real profile's.
                """);
            return 1;
        }
    }

    private static async Task<int> RunAsync(List<string> positional, IServiceProvider services, TextWriter output, TextWriter error)
    {
        var reader = services.GetRequiredService<AuditReader>();
        switch (positional[0])
        {
            case "partner":
                var now = DateTimeOffset.UtcNow;
                foreach (var record in await reader.ForPartnerAsync(positional[1], now.AddDays(-30), now.AddMinutes(1), 1000))
                {
                    var e = record.Entry;
                    var times = e.Count == 1 ? "" : $" ×{e.Count}";
                    await output.WriteLineAsync($"{record.Sequence,8} {e.Time:u} {e.Decision,-7}{times} {e.Purpose,-26} {e.Method} {e.GrantId} {e.SubjectPseudonym}");
                }
                return 0;
            case "subject":
                var report = await reader.SubjectAccessReportAsync(positional[1]);
                await output.WriteLineAsync($"Accesses to {report.SubjectPseudonym}:");
                foreach (var access in report.Accesses)
                {
                    await output.WriteLineAsync($"  {access.Time:u} {access.PartnerId,-14} {access.Purpose,-26} {access.Method} ({access.Decision})");
                }
                await output.WriteLineAsync($"{report.Withheld} confidential (investigation) record(s) withheld until released.");
                return 0;
            case "release":
                if (!long.TryParse(positional[1], out var sequence))
                {
                    await error.WriteLineAsync($"'{positional[1]}' is not a record sequence number.");
                    return 2;
                }
                await reader.ReleaseAsync(sequence, positional[2], positional[3]);
                await output.WriteLineAsync($"Record {sequence} released by {positional[2]}.");
                return 0;
            case "keys":
                foreach (var (keyId, current, pem) in services.GetRequiredService<CheckpointSigner>().PublicKeys())
                {
                    await output.WriteLineAsync($"{keyId} ({(current ? "current" : "retired")})");
                    await output.WriteLineAsync(pem);
                }
                return 0;
            case "purge":
                var purged = await services.GetRequiredService<AuditRetention>().PurgeAsync(DateTimeOffset.UtcNow);
                await output.WriteLineAsync($"{purged} record(s) purged to tombstones.");
                return 0;
        }
        var verifier = services.GetRequiredService<AuditVerifier>();
        var result = await verifier.VerifyAsync();
        await output.WriteLineAsync($"{result.RecordsChecked} records ({result.Purged} purged to tombstones), {result.CheckpointsChecked} signed checkpoints checked.");
        // The same answer as VerifyChain's last_checkpoint, for an officer comparing the two.
        var last = await verifier.LastCheckpointAsync();
        await output.WriteLineAsync(last is null
            ? "No signed checkpoint yet."
            : $"Last signed checkpoint: record {last.Sequence} at {last.Time:u}, head {last.HeadHash}, key {AuditText.Printable(last.KeyId)}, signature {(last.SignatureVerifies ? "verifies" : "does NOT verify")}.");
        foreach (var problem in result.Problems)
        {
            await output.WriteLineAsync($"  record {problem.Sequence}: {problem.Kind}: {problem.Detail}");
        }
        await output.WriteLineAsync(result.Intact ? "The audit log is intact."
            : result.Problems.All(p => p.Kind == AuditProblemKind.UnknownCheckpointKey)
                ? $"The chain is whole, but {result.Problems.Count} checkpoint(s) name a key this log does not hold, so they could not be checked: restore the key's public half to the .retired directory beside Audit:KeyFile."
                : $"The audit log has been tampered with: {result.Problems.Count} problem(s).");
        return result.Intact ? 0 : 1;
    }
}
