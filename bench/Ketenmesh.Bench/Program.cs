using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Ketenmesh.Bench;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Testing.V1;

// ./mesh bench [--suite grpc|gateway|flow|all] [--seconds N] [--rounds N] [--only name,name] [--out docs/benchmarks.md]
var seconds = args.SkipWhile(a => a != "--seconds").Skip(1).Select(int.Parse).FirstOrDefault(10);
var repoRoot = FindRepoRoot();
var outFile = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault() ?? Path.Combine(repoRoot, "docs/benchmarks.md");
const int PayloadBytes = 64;

var requestFile = Path.GetTempFileName();
await File.WriteAllBytesAsync(requestFile, Targets.EchoRequestFrame(PayloadBytes));
LoadProfile[] profiles =
[
    new("throughput: 4 connections × 32 streams", 4, 32, seconds, 3),
    new("latency: 1 connection × 1 stream", 1, 1, seconds, 2),
];

var starters = new (string Name, Func<Task<Target>> Start)[]
{
    ("raw-kestrel", () => Targets.RawKestrelAsync(Targets.EchoResponseFrame(PayloadBytes))),
    ("ketenmesh", Targets.OurServerAsync),
    ("grpc-js", () => Targets.NodeAsync(repoRoot)),
    ("python3-grpcio", () => Targets.PythonAsync(repoRoot)),
};

var rounds = args.SkipWhile(a => a != "--rounds").Skip(1).Select(int.Parse).FirstOrDefault(3);
var suite = args.SkipWhile(a => a != "--suite").Skip(1).FirstOrDefault() ?? "all";
if (suite == "flow")
{
    var section = await ChainFlowBenchmark.RunAsync(sequential: 200, bulk: 1000);
    await File.WriteAllTextAsync(outFile, WithSection(File.Exists(outFile) ? await File.ReadAllTextAsync(outFile) : "# Benchmarks\n\n## Machine\n", section));
    Console.WriteLine($"Wrote {outFile}");
    return 0;
}
if (suite == "gateway")
{
    var section = await GatewayOverhead.RunAsync(profiles, rounds);
    await File.WriteAllTextAsync(outFile, WithSection(File.Exists(outFile) ? await File.ReadAllTextAsync(outFile) : "# Benchmarks\n\n## Machine\n", section));
    Console.WriteLine($"Wrote {outFile}");
    return 0;
}
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault()?.Split(',');
var targets = new List<Target>();
foreach (var (name, start) in starters.Where(s => only is null || only.Contains(s.Name)))
{
    var target = await start();
    await CheckAnswersAsync(target);
    targets.Add(target);
}
var descriptions = targets.ToDictionary(t => t.Name, t => t.Description);

// Rounds alternate the servers so that drift on a shared machine hits them all alike; the median round counts.
var runs = new Dictionary<(string Target, string Profile), List<LoadResult>>();
try
{
    for (var round = 1; round <= rounds; round++)
    {
        foreach (var profile in profiles)
        {
            foreach (var target in targets)
            {
                var result = await H2Load.RunAsync(target.Address, Targets.EchoPath, requestFile, profile);
                Console.WriteLine($"round {round}  {target.Name,-16} {profile.Name,-40} {result.RequestsPerSecond,10:N0} req/s  p50 {result.P50Milliseconds:N2} ms  p99 {result.P99Milliseconds:N2} ms  failed {result.Failed}");
                (runs.TryGetValue((target.Name, profile.Name), out var list) ? list : runs[(target.Name, profile.Name)] = []).Add(result);
            }
        }
    }
}
finally
{
    foreach (var target in targets)
    {
        await target.StopAsync();
    }
}
var results = runs.ToDictionary(r => r.Key, r => r.Value.OrderBy(x => x.RequestsPerSecond).ElementAt(r.Value.Count / 2));
File.Delete(requestFile);
if (only is not null)
{
    return 0;
}
var report = Report(results, descriptions, profiles, seconds, rounds, PayloadBytes);
if (suite == "all")
{
    report = WithSection(report, await GatewayOverhead.RunAsync(profiles, rounds));
    report = WithSection(report, await ChainFlowBenchmark.RunAsync(sequential: 200, bulk: 1000));
}
await File.WriteAllTextAsync(outFile, report);
Console.WriteLine($"Wrote {outFile}");
return 0;

// Every server must really answer the gRPC call (h2load only sees HTTP 200), so check one call first.
static async Task CheckAnswersAsync(Target target)
{
    using var channel = GrpcChannel.ForAddress(target.Address);
    var method = Method<EchoRequest, EchoResponse>.From(InteropReflection.Descriptor.Services[0].FindMethodByName("Echo"));
    var response = await new GrpcClient(channel).UnaryCall(method, new EchoRequest { Payload = ByteString.CopyFrom(new byte[64]) });
    if (response.Payload.Length != 64)
    {
        throw new InvalidOperationException($"{target.Name} did not echo the payload");
    }
}

static string Report(Dictionary<(string Target, string Profile), LoadResult> results, Dictionary<string, string> descriptions, LoadProfile[] profiles, int seconds, int rounds, int payload)
{
    var text = new StringBuilder();
    text.AppendLine("# Benchmarks");
    text.AppendLine();
    text.AppendLine("Figures written by `./mesh bench` (bench/Ketenmesh.Bench); do not edit by hand. Everything in one run, side by side, on one machine.");
    text.AppendLine();
    text.AppendLine("## Unary gRPC throughput and latency on loopback");
    text.AppendLine();
    text.AppendLine(CultureInfo.InvariantCulture, $"Method `{Targets.EchoPath}`, {payload}-byte payload echoed back, h2c. Load from h2load (nghttp2, 1 thread) for {seconds} s per run after a warm-up; {rounds} rounds alternating the servers, the median round shown; latency percentiles from h2load's per-request log. Every server is first checked with a real gRPC call.");
    text.AppendLine();
    foreach (var profile in profiles)
    {
        text.AppendLine(CultureInfo.InvariantCulture, $"### {profile.Name}");
        text.AppendLine();
        text.AppendLine("| server | requests/s | vs floor | p50 ms | p99 ms | failed |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        var floor = results[("raw-kestrel", profile.Name)].RequestsPerSecond;
        foreach (var ((target, name), result) in results.Where(r => r.Key.Profile == profile.Name))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {target} | {result.RequestsPerSecond:N0} | {result.RequestsPerSecond / floor:P0} | {result.P50Milliseconds:N2} | {result.P99Milliseconds:N2} | {result.Failed} |");
        }
        var ours = results[("ketenmesh", profile.Name)].RequestsPerSecond;
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Ratios: ketenmesh / floor = {ours / floor:N2}; ketenmesh / grpc-js = {ours / results[("grpc-js", profile.Name)].RequestsPerSecond:N2}; ketenmesh / python3-grpcio = {ours / results[("python3-grpcio", profile.Name)].RequestsPerSecond:N2}.");
        text.AppendLine();
    }
    text.AppendLine("Servers:");
    text.AppendLine();
    foreach (var (name, description) in descriptions)
    {
        text.AppendLine(CultureInfo.InvariantCulture, $"- {name}: {description}");
    }
    text.AppendLine();
    text.AppendLine("## Machine");
    text.AppendLine();
    text.AppendLine(CultureInfo.InvariantCulture, $"- CPU: {CpuModel()}, {Environment.ProcessorCount} logical cores (load generator and server share them)");
    text.AppendLine(CultureInfo.InvariantCulture, $"- Memory: {MemoryGiB():N0} GiB");
    text.AppendLine(CultureInfo.InvariantCulture, $"- OS: {RuntimeInformation.OSDescription}");
    text.AppendLine(CultureInfo.InvariantCulture, $"- .NET: {RuntimeInformation.FrameworkDescription}, server GC");
    text.AppendLine(CultureInfo.InvariantCulture, $"- Run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    return text.ToString();
}

// Puts the gateway section before "## Machine", replacing an earlier one.
// Replaces the section with the same heading (its first line), or adds it before the machine facts.
static string WithSection(string report, string section)
{
    var heading = section.Split('\n', 2)[0];
    var start = report.IndexOf(heading, StringComparison.Ordinal);
    if (start >= 0)
    {
        var end = report.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        report = report.Remove(start, (end < 0 ? report.Length : end + 1) - start);
    }
    var machine = report.IndexOf("## Machine", StringComparison.Ordinal);
    return machine < 0 ? report + "\n" + section : report.Insert(machine, section);
}

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
        : "unknown";

static double MemoryGiB() =>
    File.Exists("/proc/meminfo")
        ? double.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024 / 1024
        : 0;

static string FindRepoRoot()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Ketenmesh.slnx")))
    {
        directory = directory.Parent;
    }
    return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root.");
}
