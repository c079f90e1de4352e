using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Chain.Shelter.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Mesh.Demo;
using Ketenmesh.Security;
using Ketenmesh.Testing;

namespace Ketenmesh.Bench;

/// <summary>
/// Shelter capacity on the real profile, through the gateway: a capacity report reaching 500 watchers, and
/// 200 clients contending for 10 beds (placements per second, and how many beds were given twice).
/// </summary>
public static class ShelterBenchmark
{
    /// <summary>Reports sent before the counted ones, alone and again with the watchers on.</summary>
    private const int WarmUpReports = 10;

    /// <summary>
    /// The same measurement twice in one run, each on a mesh of its own started the same way: the p99 of a round
    /// trip through five processes on two shared cores moves from run to run, and two arms show by how much.
    /// </summary>
    public static async Task<string> RunAsync(int watchers, int reports, int clients, int beds)
    {
        var first = await MeasureAsync("first mesh", watchers, reports, clients, beds);
        var second = await MeasureAsync("second mesh", watchers, reports, clients, beds);

        var text = new StringBuilder();
        text.AppendLine("## Shelter capacity: watchers and the last beds");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"The real profile, through the gateway. {watchers} CoMensha watches of one shelter's capacity; the shelter reports {reports} times, each on the version it read, after {WarmUpReports} reports that are not counted, once the mesh's processes together used less than a tenth of a core for a second (a fresh process compiles its hot paths and runs its first jobs for a while: {first.Settled.TotalSeconds:N0} and {second.Settled.TotalSeconds:N0} s after start); the clock runs from sending the report until each watcher received that version. Then {clients} clients ask at once for the {beds} adult men's beds left in the mesh.");
        text.AppendLine();
        text.AppendLine("The same measurement twice in one run, each on a fresh mesh started the same way, to show how far the figures move between runs on the same machine.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"| measure | {first.Name} | {second.Name} | aim |");
        text.AppendLine("|---|---:|---:|---|");
        void Row(string measure, Func<Arm, string> value, string aim = "") =>
            text.AppendLine(CultureInfo.InvariantCulture, $"| {measure} | {value(first)} | {value(second)} | {aim} |");
        static string Pair(List<double> sorted) => sorted.Count == 0 ? "—" : FormattableString.Invariant($"{Percentile(sorted, 0.50):N1} / {Percentile(sorted, 0.99):N1} ms");
        Row($"the report itself answered, nobody watching, p50 / p99 ({reports} reports)", a => Pair(a.Alone));
        Row($"the report itself answered, {watchers} watching, p50 / p99", a => Pair(a.AnsweredWatched));
        Row($"report → every watcher notified, p50 / p99 ({watchers * reports:N0} deliveries)", a => Pair(a.Latencies), "p99 ≤ 100 ms");
        Row("deliveries missing after 30 s", a => (a.Expected - a.Latencies.Count).ToString("N0", CultureInfo.InvariantCulture), "0");
        // Each round is one report and its deliveries to every watcher; the cores are shared by all of these.
        Row("CPU per watched round, all processes (2 cores)", a => FormattableString.Invariant($"{a.Cpu.Sum(g => g.Seconds) * 1000 / a.Rounds:N1} ms ({a.Rounds} rounds in {a.Elapsed.TotalSeconds:N1} s)"));
        foreach (var group in first.Cpu.Select(g => g.Group).Union(second.Cpu.Select(g => g.Group)))
        {
            Row($"&nbsp;&nbsp;{group}", a => FormattableString.Invariant($"{a.Cpu.Where(g => g.Group == group).Sum(g => g.Seconds) * 1000 / a.Rounds:N1} ms"));
        }
        Row($"placements per second, {clients} clients for {beds} beds", a => a.PlacementsPerSecond.ToString("N0", CultureInfo.InvariantCulture));
        Row("beds held", a => $"{a.Held} of {beds}", beds.ToString(CultureInfo.InvariantCulture));
        Row("double bookings", a => a.DoubleBookings.ToString(CultureInfo.InvariantCulture), "0");
        text.AppendLine();
        return text.ToString();
    }

    private sealed record Arm(string Name, TimeSpan Settled, List<double> Alone, List<double> AnsweredWatched, List<double> Latencies,
        IReadOnlyList<(string Group, double Seconds)> Cpu, TimeSpan Elapsed, int Rounds, int Expected, double PlacementsPerSecond, int Held, int DoubleBookings);

    private static async Task<Arm> MeasureAsync(string name, int watchers, int reports, int clients, int beds)
    {
        Console.Error.WriteLine($"== {name}");
        await using var mesh = await RealMesh.StartAsync();
        using var http = AuthorityHttp.For(mesh.Address("identity"));
        var comensha = (await PartnerSession.SignInAsync(http, mesh.Address("identity"), mesh.DataDirectory, "comensha")).For("victim_care");
        var jade = (await PartnerSession.SignInAsync(http, mesh.Address("identity"), mesh.DataDirectory, "shelter-jade")).For("victim_care");
        var denHaag = (await PartnerSession.SignInAsync(http, mesh.Address("identity"), mesh.DataDirectory, "shelter-social-den-haag")).For("victim_care");
        using var channel = GrpcChannel.ForAddress(mesh.Address("gateway"), new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });
        var client = new ShelterCapacity.ShelterCapacityClient(channel);

        // The gateway may still be reading its first published policy.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await client.GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, jade);
                break;
            }
            catch (RpcException) when (attempt < 100)
            {
                await Task.Delay(200);
            }
        }

        // A report on the version just read: when it was sent, its version, and how long until it was answered.
        var occupied = 0;
        async Task<(long Sent, long Version, double Answered)> ReportAsync()
        {
            var current = (await client.GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, jade)).Overview.Capacity;
            var sent = Stopwatch.GetTimestamp();
            var version = (await client.ReportCapacityAsync(new ReportCapacityRequest
            {
                ExpectedVersion = current.Version,
                Beds = { new BedCount { Category = ShelterCategory.Cosm, TotalBeds = 20, OccupiedBeds = occupied++ % 20 } },
            }, jade)).Capacity.Version;
            return (sent, version, Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
        }

        var settled = await ProcessCpu.QuietAsync(mesh, TimeSpan.FromMinutes(3));
        Console.Error.WriteLine(FormattableString.Invariant($"the mesh was quiet after {settled.TotalSeconds:N0} s"));

        // 0. The report alone, nobody watching (after warm-up reports that are not counted: the first calls of a
        // fresh process pay for compiling the path, which is not what a partner meets after the first minute).
        for (var w = 0; w < WarmUpReports; w++)
        {
            await ReportAsync();
        }
        var alone = new List<double>();
        for (var r = 0; r < reports; r++)
        {
            alone.Add((await ReportAsync()).Answered);
        }
        alone.Sort();

        // 1. A report, and the moment each watcher hears its version.
        var heard = new ConcurrentDictionary<long, ConcurrentBag<long>>();
        using var stop = new CancellationTokenSource();
        var live = new List<Task>();
        var ready = new CountdownEvent(watchers);
        for (var i = 0; i < watchers; i++)
        {
            live.Add(Task.Run(async () =>
            {
                using var watch = client.WatchCapacity(new WatchCapacityRequest { ShelterIds = { "shelter-jade" } }, comensha);
                var signalled = false;
                try
                {
                    while (await watch.ResponseStream.MoveNext(stop.Token))
                    {
                        var at = Stopwatch.GetTimestamp();
                        if (!signalled)
                        {
                            ready.Signal();
                            signalled = true;
                        }
                        if (!watch.ResponseStream.Current.Initial)
                        {
                            heard.GetOrAdd(watch.ResponseStream.Current.Capacity.Version, _ => []).Add(at);
                        }
                    }
                }
                catch (RpcException) when (stop.IsCancellationRequested)
                {
                }
                catch (OperationCanceledException)
                {
                }
            }));
        }
        ready.Wait(TimeSpan.FromSeconds(120));
        // Where the cores go while a report reaches the watchers (warm-up rounds included: they are rounds too).
        var cpuBefore = ProcessCpu.Read();
        var watchedRounds = Stopwatch.StartNew();
        var latencies = new List<double>();
        var answeredWatched = new List<double>();
        for (var r = -WarmUpReports; r < reports; r++)
        {
            var (sent, version, answered) = await ReportAsync();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((!heard.TryGetValue(version, out var bag) || bag.Count < watchers) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }
            var round = heard.GetValueOrDefault(version, []).Select(t => Stopwatch.GetElapsedTime(sent, t).TotalMilliseconds).Order().ToList();
            if (round.Count > 0)
            {
                Console.Error.WriteLine(FormattableString.Invariant($"report {r + 1}: answered {answered:N1} ms, {round.Count} heard, first {round[0]:N1} ms, p50 {Percentile(round, 0.5):N1} ms, last {round[^1]:N1} ms"));
            }
            if (r >= 0)
            {
                answeredWatched.Add(answered);
                latencies.AddRange(round);
            }
        }
        watchedRounds.Stop();
        var roundsCpu = ProcessCpu.ByComponentSince(cpuBefore, mesh, "bench (the 500 watchers and the reporting shelter)");
        answeredWatched.Sort();
        await stop.CancelAsync();
        await Task.WhenAll(live);
        latencies.Sort();

        // 2. Ten free adult men's beds in the whole mesh, 200 clients asking at once.
        var haag = (await client.GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-social-den-haag" }, denHaag)).Overview.Capacity;
        await client.ReportCapacityAsync(new ReportCapacityRequest { ExpectedVersion = haag.Version, Beds = { new BedCount { Category = ShelterCategory.AdultMen, TotalBeds = 12, OccupiedBeds = 12 } } }, denHaag);
        var before = (await client.GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, jade)).Overview.Capacity;
        await client.ReportCapacityAsync(new ReportCapacityRequest { ExpectedVersion = before.Version, Beds = { new BedCount { Category = ShelterCategory.AdultMen, TotalBeds = beds, OccupiedBeds = 0 } } }, jade);
        var run = Guid.NewGuid().ToString("N")[..8];
        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, clients).Select(i => client.RequestPlacementAsync(new RequestPlacementRequest
        {
            ClientRequestId = $"bench-{run}-{i}",
            RegistrationId = $"reg-bench-{run}-{i}",
            Needs = new PlacementNeeds { Category = ShelterCategory.AdultMen, Urgency = PlacementUrgency.Immediate },
        }, comensha).ResponseAsync));
        clock.Stop();
        var held = answers.Count(a => a.Placement.State == PlacementState.Held);
        var after = (await client.GetCapacityAsync(new GetCapacityRequest { ShelterId = "shelter-jade" }, comensha)).Overview.Capacity.Beds.Single(b => b.Category == ShelterCategory.AdultMen);
        var doubleBookings = Math.Max(0, held - beds) + Math.Max(0, after.ReservedBeds + after.OccupiedBeds - after.TotalBeds);

        return new Arm(name, settled, alone, answeredWatched, latencies, roundsCpu, watchedRounds.Elapsed, reports + WarmUpReports, watchers * reports,
            clients / clock.Elapsed.TotalSeconds, held, doubleBookings);
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
