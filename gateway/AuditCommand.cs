using Ketenmesh.Audit;
using Ketenmesh.Audit.Chain;

namespace Ketenmesh.Gateway;

/// <summary>
/// <c>Ketenmesh.Gateway audit verify</c> (behind <c>./mesh audit verify</c>): recomputes the gateway's
/// audit chain and checks its signed checkpoints. Exit 0 intact, 1 tampered, 2 usage.
/// </summary>
public static class AuditCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args.FirstOrDefault() != "verify")
        {
            await error.WriteLineAsync("usage: audit verify [--Database:Provider=Postgres --Database:ConnectionString=...] [--Audit:KeyFile=...]");
            return 2;
        }
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddCommandLine(args.Skip(1).ToArray())
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAuditLog(configuration);
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<AuditVerifier>().VerifyAsync();
        await output.WriteLineAsync($"{result.RecordsChecked} records ({result.Purged} purged to tombstones), {result.CheckpointsChecked} signed checkpoints checked.");
        foreach (var problem in result.Problems)
        {
            await output.WriteLineAsync($"  record {problem.Sequence}: {problem.Kind}: {problem.Detail}");
        }
        await output.WriteLineAsync(result.Intact ? "The audit log is intact." : $"The audit log has been tampered with: {result.Problems.Count} problem(s).");
        return result.Intact ? 0 : 1;
    }
}
