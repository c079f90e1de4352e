namespace Ketenmesh.Bench;

/// <summary>One server's figures at one load, as a run recorded them.</summary>
public sealed record Figures(double RequestsPerSecond, double P50Milliseconds, double P99Milliseconds, long Failed);

/// <summary>
/// Our own gRPC layer (building-blocks/Ketenmesh.Grpc, "ketenmesh" in the tables) is deleted, so it can no
/// longer be run beside grpc-dotnet; its last figures are kept here exactly as docs/benchmarks.md
/// recorded them (commit 05256d5), with the floor of the same run, and printed beside today's.
/// </summary>
public static class DeletedLayer
{
    public const string Name = "ketenmesh: our deleted layer (Ketenmesh.Grpc) on Kestrel";

    public const string Run = "2026-11-25 04:00 UTC (commit 05256d5), as recorded then: AMD EPYC, 2 logical cores, 24 GiB, Debian GNU/Linux 12 (bookworm), .NET 10.0.12, server GC; 10 s per run, 3 rounds alternating the servers, the median round";

    /// <summary>By load profile name: the raw Kestrel floor and the layer, from the same run.</summary>
    public static readonly IReadOnlyDictionary<string, (Figures Floor, Figures Layer)> Recorded = new Dictionary<string, (Figures, Figures)>
    {
        ["throughput: 4 connections × 32 streams"] = (new Figures(131_281, 0.50, 1.73, 0), new Figures(112_898, 0.59, 2.50, 0)),
        ["latency: 1 connection × 1 stream"] = (new Figures(10_809, 0.09, 0.20, 0), new Figures(9_165, 0.10, 0.23, 0)),
    };
}
