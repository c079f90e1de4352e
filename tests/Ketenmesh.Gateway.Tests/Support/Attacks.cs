using Grpc.Core;
using Ketenmesh.Audit;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>What every refused attack must show: its status, nothing at the service, the refusal on record, and other partners still served.</summary>
static class Attacks
{
    public const string ListMySignals = "chain.signals.v1.SignalIntake/ListMySignals";
    public const string WatchMySignals = "chain.signals.v1.SignalIntake/WatchMySignals";
    public const string SubmitSignalBatch = "chain.signals.v1.SignalIntake/SubmitSignalBatch";
    public const string GetRegistration = "chain.registry.v1.VictimRegistry/GetRegistration";

    /// <summary>
    /// The attack got <paramref name="status"/> and no message, the service saw no request at all, and the gateway's
    /// last record is the refusal of <paramref name="method"/> (as the gateway read the path) with that status.
    /// </summary>
    public static async Task<AuditEntry> AssertRefusedAsync(this GatewayMesh mesh, RawCallResult result, StatusCode status, string method)
    {
        Assert.True((int)status == result.Status, $"expected {status}, got {result.Status} '{result.Message}'");
        Assert.Empty(result.Messages);
        Assert.Empty(mesh.Upstream.Targets);
        var entry = (await mesh.AuditAsync()).Last();
        Assert.Equal(AuditDecision.Denied, entry.Decision);
        Assert.Equal(method, entry.Method);
        Assert.StartsWith($"{status}: ", entry.Reason);
        await mesh.AssertOthersServedAsync();
        return entry;
    }

    /// <summary>
    /// Another partner (care, on its own connection) reads a registration through the gateway within
    /// <paramref name="deadline"/>, and gets it.
    /// </summary>
    public static async Task AssertOthersServedAsync(this GatewayMesh mesh, TimeSpan? deadline = null)
    {
        var limit = deadline ?? TimeSpan.FromSeconds(5);
        using var other = new RawGrpc(mesh.Gateway);
        using var timeout = new CancellationTokenSource(limit);
        var metadata = mesh.As("care", "victim_care");
        metadata["grpc-timeout"] = $"{(int)limit.TotalMilliseconds}m";
        var result = await other.CallAsync(GetRegistration, [[]], metadata, timeout.Token);
        Assert.True(result.Status == (int)StatusCode.OK, $"another partner's call got {result.Status} '{result.Message}'");
        Assert.Single(result.Messages);
    }
}
