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
    private const int WarmUpReports = 3;

    public static async Task<string> RunAsync(int watchers, int reports, int clients, int beds)
    {
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

        var text = new StringBuilder();
        text.AppendLine("## Shelter capacity: watchers and the last beds");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"The real profile, through the gateway. {watchers} CoMensha watches of one shelter's capacity; the shelter reports {reports} times, each on the version it read, after {WarmUpReports} reports that are not counted; the clock runs from sending the report until each watcher received that version. Then {clients} clients ask at once for the {beds} adult men's beds left in the mesh.");
        text.AppendLine();
        text.AppendLine("| measure | result | aim |");
        text.AppendLine("|---|---:|---|");
        if (latencies.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| the report itself answered, nobody watching, p50 / p99 ({reports} reports) | {Percentile(alone, 0.50):N1} / {Percentile(alone, 0.99):N1} ms | |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| the report itself answered, {watchers} watching, p50 / p99 | {Percentile(answeredWatched, 0.50):N1} / {Percentile(answeredWatched, 0.99):N1} ms | |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| report → every watcher notified, p50 ({latencies.Count:N0} deliveries) | {Percentile(latencies, 0.50):N1} ms | |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| report → every watcher notified, p99 | {Percentile(latencies, 0.99):N1} ms | ≤ 100 ms |");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"| deliveries missing after 30 s | {watchers * reports - latencies.Count:N0} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| placements per second, {clients} clients for {beds} beds | {clients / clock.Elapsed.TotalSeconds:N0} | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| beds held | {held} of {beds} | {beds} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| double bookings | {doubleBookings} | 0 |");
        text.AppendLine();
        return text.ToString();
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
