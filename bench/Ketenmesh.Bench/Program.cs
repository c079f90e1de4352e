using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;
using Ketenmesh.Bench;
using Ketenmesh.Testing.V1;

// ./mesh bench [--suite grpc|gateway|flow|shelter|all] [--seconds N] [--rounds N] [--only name,name] [--out docs/benchmarks.md]
// --suite all writes the whole file; one suite replaces its own section and keeps the others.
var startedAt = DateTime.UtcNow;
var loadBefore = LoadAverage();
var seconds = args.SkipWhile(a => a != "--seconds").Skip(1).Select(int.Parse).FirstOrDefault(10);
var repoRoot = FindRepoRoot();
var outFile = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault() ?? Path.Combine(repoRoot, "docs/benchmarks.md");
const int PayloadBytes = 64;
// What the issue asks of grpc-dotnet as the mesh hosts it, at the throughput load.
const double FloorAim = 0.6;

LoadProfile[] profiles =
[
    new("throughput: 4 connections × 32 streams", 4, 32, seconds, 3),
    new("latency: 1 connection × 1 stream", 1, 1, seconds, 2),
];

// Keys for --only, and how each server starts.
var starters = new (string Key, Func<Task<Target>> Start)[]
{
    ("raw-kestrel", () => Targets.RawKestrelAsync(Targets.EchoResponseFrame(PayloadBytes))),
    ("grpc-dotnet", Targets.GrpcDotnetAsync),
    ("grpc-js", () => Targets.NodeAsync(repoRoot)),
    ("python3-grpcio", () => Targets.PythonAsync(repoRoot)),
};

var rounds = args.SkipWhile(a => a != "--rounds").Skip(1).Select(int.Parse).FirstOrDefault(3);
var suite = args.SkipWhile(a => a != "--suite").Skip(1).FirstOrDefault() ?? "all";
if (suite is not ("all" or "grpc" or "gateway" or "flow" or "shelter"))
{
    Console.Error.WriteLine($"Unknown suite '{suite}': grpc, gateway, flow, shelter or all.");
    return 2;
}
if (suite == "shelter")
{
    await WriteSectionsAsync(outFile, await ShelterBenchmark.RunAsync(watchers: 500, reports: 20, clients: 200, beds: 10));
    return 0;
}
if (suite == "flow")
{
    await WriteSectionsAsync(outFile, await ChainFlowBenchmark.RunAsync(sequential: 200, bulk: 1000));
    return 0;
}
if (suite == "gateway")
{
    await WriteSectionsAsync(outFile, await GatewayOverhead.RunAsync(profiles, rounds));
    return 0;
}

var requestFile = Path.GetTempFileName();
await File.WriteAllBytesAsync(requestFile, Targets.EchoRequestFrame(PayloadBytes));
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault()?.Split(',');
var targets = new List<Target>();
try
{
    foreach (var (_, start) in starters.Where(s => only is null || only.Contains(s.Key)))
    {
        var target = await start();
        targets.Add(target);
        await CheckAnswersAsync(target);
    }
}
catch
{
    foreach (var target in targets)
    {
        await target.StopAsync();
    }
    throw;
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
                Console.WriteLine($"round {round}  {target.Name,-36} {profile.Name,-40} {result.RequestsPerSecond,10:N0} req/s  p50 {result.P50Milliseconds:N2} ms  p99 {result.P99Milliseconds:N2} ms  failed {result.Failed}");
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
    File.Delete(requestFile);
}
var results = runs.ToDictionary(r => r.Key, r => r.Value.OrderBy(x => x.RequestsPerSecond).ElementAt(r.Value.Count / 2));
if (only is not null)
{
    return 0;
}
var grpcSection = GrpcSection(results, descriptions, profiles, seconds, rounds, PayloadBytes);
if (suite == "all")
{
    await WriteSectionsAsync(outFile, grpcSection, await GatewayOverhead.RunAsync(profiles, rounds), await ChainFlowBenchmark.RunAsync(sequential: 200, bulk: 1000));
}
else
{
    await WriteSectionsAsync(outFile, grpcSection);
}
return 0;

// Every server must really answer the gRPC call (h2load only sees HTTP 200), so check one call first.
static async Task CheckAnswersAsync(Target target)
{
    using var channel = GrpcChannel.ForAddress(target.Address);
    var response = await new InteropTestService.InteropTestServiceClient(channel)
        .EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[PayloadBytes]) }, deadline: DateTime.UtcNow.AddSeconds(10));
    if (response.Payload.Length != PayloadBytes)
    {
        throw new InvalidOperationException($"{target.Name} did not echo the payload");
    }
}

// The whole file when there is none yet or every suite ran; otherwise the sections this run wrote replace
// their earlier versions and every other section stays as it was.
async Task WriteSectionsAsync(string file, params string[] sections)
{
    sections = sections.Select(Stamped).ToArray();
    string report;
    if (suite == "all" || !File.Exists(file))
    {
        report = Header() + string.Concat(sections) + MachineSection();
    }
    else
    {
        report = await File.ReadAllTextAsync(file);
        foreach (var section in sections)
        {
            report = WithSection(report, section);
        }
        var firstSection = report.IndexOf("\n## ", StringComparison.Ordinal);
        report = Header() + (firstSection < 0 ? report : report[(firstSection + 1)..]);
        report = WithMachineNote(report);
    }
    await File.WriteAllTextAsync(file, report);
    Console.WriteLine($"Wrote {file}");
}

static string Header() =>
    "# Benchmarks\n\nFigures written by `./mesh bench` (bench/Ketenmesh.Bench); do not edit by hand. Within a section, everything is from one run, side by side, on one machine.\n\n";

static string GrpcSection(Dictionary<(string Target, string Profile), LoadResult> results, Dictionary<string, string> descriptions, LoadProfile[] profiles, int seconds, int rounds, int payload)
{
    var text = new StringBuilder();
    text.AppendLine("## Unary gRPC throughput and latency on loopback");
    text.AppendLine();
    text.AppendLine(CultureInfo.InvariantCulture, $"Method `{Targets.EchoPath}`, {payload}-byte payload echoed back, h2c. Load from h2load (nghttp2, 1 thread) for {seconds} s per run after a warm-up; {rounds} rounds alternating the servers, the median round shown; latency percentiles from h2load's per-request log. Every server is first checked with a real gRPC call (Grpc.Net.Client). The aim: grpc-dotnet as the mesh hosts it at ≥ {FloorAim:N1}× the raw Kestrel floor at 4 connections × 32 streams. Our own layer that it replaces is deleted; its last recorded figures are shown beside (not rerun).");
    text.AppendLine();
    foreach (var profile in profiles)
    {
        text.AppendLine(CultureInfo.InvariantCulture, $"### {profile.Name}");
        text.AppendLine();
        text.AppendLine("| server | requests/s | vs floor | p50 ms | p99 ms | failed |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        var floor = results[("raw-kestrel", profile.Name)].RequestsPerSecond;
        foreach (var ((target, _), result) in results.Where(r => r.Key.Profile == profile.Name))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {target} | {result.RequestsPerSecond:N0} | {result.RequestsPerSecond / floor:P0} | {result.P50Milliseconds:N2} | {result.P99Milliseconds:N2} | {result.Failed} |");
        }
        var ours = results[(Targets.GrpcDotnet, profile.Name)].RequestsPerSecond;
        var aim = profile is { Connections: 4, StreamsPerConnection: 32 }
            ? string.Create(CultureInfo.InvariantCulture, $" (aim ≥ {FloorAim:N2}: {(ours / floor >= FloorAim ? "met" : "not met")})")
            : "";
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Ratios: grpc-dotnet / floor = {ours / floor:N2}{aim}; grpc-dotnet / grpc-js = {ours / results[("grpc-js", profile.Name)].RequestsPerSecond:N2}; grpc-dotnet / python3-grpcio = {ours / results[("python3-grpcio", profile.Name)].RequestsPerSecond:N2}.");
        text.AppendLine();
        if (DeletedLayer.Recorded.TryGetValue(profile.Name, out var previous))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Beside it, the previous run of the deleted layer at the same load: {DeletedLayer.Run}.");
            text.AppendLine();
            text.AppendLine("| server (previous run) | requests/s | vs floor | p50 ms | p99 ms | failed |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var (name, figures) in new[] { ("raw-kestrel", previous.Floor), (DeletedLayer.Name, previous.Layer) })
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {figures.RequestsPerSecond:N0} | {figures.RequestsPerSecond / previous.Floor.RequestsPerSecond:P0} | {figures.P50Milliseconds:N2} | {figures.P99Milliseconds:N2} | {figures.Failed} |");
            }
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"Against each run's own floor: grpc-dotnet as the mesh hosts it {ours / floor:N2} now, the deleted layer {previous.Layer.RequestsPerSecond / previous.Floor.RequestsPerSecond:N2} then. The ratios compare across runs; requests/s from different runs and machines do not.");
            text.AppendLine();
        }
    }
    text.AppendLine("Servers:");
    text.AppendLine();
    foreach (var (name, description) in descriptions)
    {
        text.AppendLine(CultureInfo.InvariantCulture, $"- {name}: {description}");
    }
    text.AppendLine();
    return text.ToString();
}

static string MachineSection()
{
    var text = new StringBuilder();
    text.AppendLine("## Machine");
    text.AppendLine();
    text.AppendLine(CultureInfo.InvariantCulture, $"- CPU: {CpuModel()}, {Environment.ProcessorCount} logical cores (load generator and server share them)");
    text.AppendLine(CultureInfo.InvariantCulture, $"- Memory: {MemoryGiB():N0} GiB");
    text.AppendLine(CultureInfo.InvariantCulture, $"- OS: {RuntimeInformation.OSDescription}");
    text.AppendLine(CultureInfo.InvariantCulture, $"- .NET: {RuntimeInformation.FrameworkDescription}, server GC");
    text.AppendLine(CultureInfo.InvariantCulture, $"- Run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    return text.ToString();
}

// Each section says when and where it was measured, since one suite may be rerun alone.
string Stamped(string section) =>
    section.TrimEnd() + "\n\n" + string.Create(CultureInfo.InvariantCulture,
        $"Run: started {startedAt:yyyy-MM-dd HH:mm} UTC on {CpuModel()}, {Environment.ProcessorCount} logical cores, {MemoryGiB():N0} GiB, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, server GC; load average (1, 5, 15 min) at the start {loadBefore}, at the end {LoadAverage()} (other work on the machine shares its cores).\n\n");

// After a run of one suite, the machine section (of the run that last wrote it) says so.
static string WithMachineNote(string report)
{
    const string Note = "Sections with a run line of their own give the time and machine of that run (one suite may be run alone); the facts below are those of the run that last wrote this section.";
    var machine = report.IndexOf("## Machine\n", StringComparison.Ordinal);
    if (machine < 0 || report.Contains(Note, StringComparison.Ordinal))
    {
        return report;
    }
    var body = machine + "## Machine\n".Length;
    return report[..body] + "\n" + Note + "\n" + report[body..];
}

// Replaces the section with the same heading (its first line) where it stands, or adds it before the machine facts.
static string WithSection(string report, string section)
{
    var heading = section.Split('\n', 2)[0];
    var start = report.IndexOf(heading + "\n", StringComparison.Ordinal);
    if (start >= 0)
    {
        var end = report.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return report.Remove(start, (end < 0 ? report.Length : end + 1) - start).Insert(start, section);
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

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

static string FindRepoRoot()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Ketenmesh.slnx")))
    {
        directory = directory.Parent;
    }
    return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root.");
}
