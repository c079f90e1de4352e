using Ketenmesh.Testing;
using Ketenmesh.Security;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text;
using Chain.Common.V1;
using Chain.Risk.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Mesh;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Bench;

/// <summary>
/// The same unary call, direct to the service and through the gateway (token validation, purpose and
/// grant, field mask, durable audit record), side by side in one run, for two services: a stand-in
/// that answers a fixed assessment (so the figures are the gateway's cost alone), and the real signal
/// intake reading a stored signal from its database (so they show what a partner notices).
/// </summary>
public static class GatewayOverhead
{
    private sealed record Scenario(string Name, string Path, byte[] Request, Uri Direct, Func<Dictionary<string, string>> DirectHeaders, Func<Dictionary<string, string>> GatewayHeaders, string Answer);

    private static readonly string[] Routes = ["direct", "yarp hop", "gateway"];

    public static async Task<string> RunAsync(LoadProfile[] profiles, int rounds)
    {
        var data = Directory.CreateTempSubdirectory("ketenmesh-bench-gateway-").FullName;
        var upstream = await MeshHosted.StartAsync<RiskAssessmentStandIn>("risk-stand-in", "risk assessment stand-in, hosted as the mesh hosts its components");
        var gatewayPort = FreePort();
        var signalsPort = FreePort();
        var mesh = MeshHost.BuildEmbedded(MeshComponents.All, [], c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = data,
            ["Logging:LogLevel:Default"] = "Warning",
            [Ketenmesh.Gateway.GatewayComponent.DestinationKey("risk")] = upstream.Address.ToString(),
            [Ketenmesh.Gateway.GatewayComponent.DestinationKey("signals")] = $"http://127.0.0.1:{signalsPort}",
            ["Gateway:RateLimitPerSecond"] = "10000000",
            ["Gateway:RateLimitBurst"] = "10000000",
            ["Components:gateway:Service:Port"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Components:signals:Service:Port"] = signalsPort.ToString(CultureInfo.InvariantCulture),
        }));
        await mesh.App.StartAsync();
        await using var hop = await BareHop.StartAsync(new Dictionary<string, Uri>
        {
            ["chain.risk.v1"] = upstream.Address,
            ["chain.signals.v1"] = new($"http://127.0.0.1:{signalsPort}"),
        });
        var files = new List<string>();
        try
        {
            var policy = mesh.App.Services.GetRequiredService<CurrentPolicy>();
            for (var i = 0; i < 200 && policy.Value.IsEmpty; i++)
            {
                await Task.Delay(50);
            }
            var gateway = new Uri($"http://127.0.0.1:{gatewayPort}");
            Scenario[] scenarios =
            [
                await StandInScenarioAsync(mesh, gateway, upstream.Address),
                await SignalScenarioAsync(mesh, gateway, new Uri($"http://127.0.0.1:{signalsPort}")),
            ];

            foreach (var scenario in scenarios)
            {
                files.Add(Path.GetTempFileName());
                await File.WriteAllBytesAsync(files[^1], Frame(scenario.Request));
            }

            var fsync = DiskSyncMilliseconds(data);
            var signing = SigningMicroseconds(mesh);
            var runs = new Dictionary<(string Scenario, string Route, string Profile), List<LoadResult>>();
            using var commits = new AuditCommits(mesh.App.Services.GetRequiredService<IMeterFactory>());
            var commitsPerRun = new Dictionary<(string Scenario, string Profile), List<(double Milliseconds, int Records)>>();
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var (scenario, requestFile) in scenarios.Zip(files))
                {
                    foreach (var profile in profiles)
                    {
                        foreach (var (route, address, headers) in new[] { ("direct", scenario.Direct, scenario.DirectHeaders()), ("yarp hop", hop.Address, scenario.DirectHeaders()), ("gateway", gateway, scenario.GatewayHeaders()) })
                        {
                            commits.Take();
                            var result = await H2Load.RunAsync(address, scenario.Path, requestFile, profile, headers);
                            if (route == "gateway")
                            {
                                (commitsPerRun.TryGetValue((scenario.Name, profile.Name), out var taken) ? taken : commitsPerRun[(scenario.Name, profile.Name)] = []).AddRange(commits.Take());
                            }
                            Console.WriteLine($"round {round}  {scenario.Name,-10} {route,-8} {profile.Name,-40} {result.RequestsPerSecond,10:N0} req/s  p50 {result.P50Milliseconds:N2} ms  p99 {result.P99Milliseconds:N2} ms  failed {result.Failed}");
                            (runs.TryGetValue((scenario.Name, route, profile.Name), out var list) ? list : runs[(scenario.Name, route, profile.Name)] = []).Add(result);
                        }
                    }
                }
            }
            var median = runs.ToDictionary(r => r.Key, r => r.Value.OrderBy(x => x.RequestsPerSecond).ElementAt(r.Value.Count / 2));
            return Report(median, scenarios, profiles, rounds, fsync, signing, commitsPerRun);
        }
        finally
        {
            await mesh.App.StopAsync();
            await mesh.App.DisposeAsync();
            await upstream.StopAsync();
            files.ForEach(File.Delete);
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>The municipality under administrative_enforcement, whose grant masks the assessment down to four fields.</summary>
    private static async Task<Scenario> StandInScenarioAsync(MeshApplication mesh, Uri gateway, Uri direct)
    {
        var through = Through(mesh, "municipality", "administrative_enforcement");
        var request = new GetAssessmentRequest { SignalId = "sg-0001" };
        using var channel = GrpcChannel.ForAddress(gateway);
        var response = await new RiskAssessment.RiskAssessmentClient(channel).GetAssessmentAsync(request, headers: Headers(through));
        // One real call through the gateway first: it must be allowed and masked, or the figures mean nothing.
        if (response.Assessment.Score != 0 || response.Assessment.Band == RiskBand.Unspecified)
        {
            throw new InvalidOperationException($"The gateway did not apply the grant's mask: {response}");
        }
        return new Scenario("stand-in", "/chain.risk.v1.RiskAssessment/GetAssessment", request.ToByteArray(), direct,
            () => Trusted(mesh, gateway, "/chain.risk.v1.RiskAssessment/GetAssessment", "municipality", "administrative_enforcement"),
            // A fresh access token per run: one lives 10 minutes at most, and an expired one is answered at once, not served.
            () => Through(mesh, "municipality", "administrative_enforcement"), response.ToString());
    }

    /// <summary>The police reading back a signal it submitted, from the signal intake's SQLite database.</summary>
    private static async Task<Scenario> SignalScenarioAsync(MeshApplication mesh, Uri gateway, Uri direct)
    {
        var through = Through(mesh, "police", "signalling");
        using var channel = GrpcChannel.ForAddress(gateway);
        var intake = new SignalIntake.SignalIntakeClient(channel);
        var submitted = await intake.SubmitSignalAsync(new SubmitSignalRequest
        {
            ClientRequestId = "bench-1",
            Observation = new SignalObservation
            {
                Channel = SignalChannel.Police,
                ReporterType = ReporterType.Professional,
                ObservedIndicators = { Indicator.IntegrityThreatsOrViolence, Indicator.FreedomNoControlOfEarnings },
                SuspectedForm = FormOfExploitation.Sexual,
                Sector = Sector.SexIndustry,
                LocationType = LocationType.PrivateHome,
                ObservedOn = new Date { Year = 2026, Month = 11, Day = 2 },
                Municipality = new Municipality { Code = "GM0363", Name = "Amsterdam" },
            },
        }, headers: Headers(through));
        var request = new GetSignalRequest { SignalId = submitted.Signal.SignalId };
        var response = await intake.GetSignalAsync(request, headers: Headers(through));
        if (response.Signal.SignalId != request.SignalId)
        {
            throw new InvalidOperationException($"The gateway did not return the stored signal: {response}");
        }
        return new Scenario("signal", "/chain.signals.v1.SignalIntake/GetSignal", request.ToByteArray(), direct,
            () => Trusted(mesh, gateway, "/chain.signals.v1.SignalIntake/GetSignal", "police", "signalling"),
            () => Through(mesh, "police", "signalling"), response.ToString());
    }

    private static Dictionary<string, string> Through(MeshApplication mesh, string partnerId, string purpose)
    {
        var partner = PartnerCatalog.Seeded.Find(partnerId)!;
        var token = mesh.App.Services.GetRequiredService<AccessTokenIssuer>().Issue(partner, $"{partnerId}-local", partner.Purposes).AccessToken;
        return new Dictionary<string, string> { ["authorization"] = "Bearer " + token, ["x-purpose"] = purpose };
    }

    /// <summary>
    /// The transaction token the gateway would have minted, from the mesh's own gateway keys, good for one
    /// load run (a minute); the service believes it as it would the gateway's.
    /// </summary>
    private static Dictionary<string, string> Trusted(MeshApplication mesh, Uri gateway, string method, string partner, string purpose) =>
        new()
        {
            [TransactionTokens.Header] = TestGateway.UsingKeysOf(mesh.App.Configuration["Mesh:DataDirectory"]!, gateway)
                .Mint(method, partner, purpose, TransactionTokens.MaxLifetime),
        };

    private static byte[] Frame(byte[] body)
    {
        var frame = new byte[5 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        return frame;
    }

    private static Metadata Headers(Dictionary<string, string> headers)
    {
        var metadata = new Metadata();
        foreach (var (key, value) in headers)
        {
            metadata.Add(key, value);
        }
        return metadata;
    }

    /// <summary>
    /// The floor under a durable record: the median time the audit log's disk takes to sync a 4 KiB
    /// write (200 syncs, on the directory the log lives in). No audited call can be faster than this.
    /// </summary>
    private static double DiskSyncMilliseconds(string directory)
    {
        var path = System.IO.Path.Combine(directory, "fsync-probe");
        var block = new byte[4096];
        var times = new List<double>();
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            for (var i = 0; i < 200; i++)
            {
                file.Write(block);
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                file.Flush(flushToDisk: true);
                times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        File.Delete(path);
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>
    /// What one transaction token costs the gateway: the median of 2,000 mints with the gateway's own issuer and
    /// key (ES256), one at a time. Every forwarded call needs one, so this much of the machine per call is spent
    /// whatever else the gateway does.
    /// </summary>
    private static double SigningMicroseconds(MeshApplication mesh)
    {
        var issuer = mesh.App.Services.GetRequiredService<TransactionTokenIssuer>();
        var context = new TransactionContext("municipality", "administrative_enforcement", "municipality-administrative-enforcement", "assessment_id:as-0001", "0af7651916cd43dd8448eb211c80319c");
        var times = new List<double>();
        for (var i = 0; i < 2_200; i++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            issuer.Mint("/chain.risk.v1.RiskAssessment/GetAssessment", context);
            if (i >= 200)
            {
                times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            }
        }
        times.Sort();
        return times[times.Count / 2];
    }

    private static string Report(Dictionary<(string Scenario, string Route, string Profile), LoadResult> results, Scenario[] scenarios, LoadProfile[] profiles, int rounds, double fsync, double signing,
        Dictionary<(string Scenario, string Profile), List<(double Milliseconds, int Records)>> commits)
    {
        var text = new StringBuilder();
        text.AppendLine("## Gateway overhead");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"The same unary call three ways: directly to the service; through a bare YARP 2.3 hop (YARP's defaults, h2c, nothing else); and through the gateway of the embedded mesh (`./mesh up`), which is YARP with the gateway's steps: JwtBearer token validation (ES256, every call), per-partner rate limiting, purpose and published grant, preconditions, a durable audit record before forwarding (SQLite, synchronous=FULL, group commit), a minted transaction token, and the grant's field mask on the answer. Directly and through the bare hop, the call carries the transaction token the gateway would have minted. {rounds} rounds alternating the three; the median round shown. Two services:");
        text.AppendLine();
        text.AppendLine("- **stand-in**: `/chain.risk.v1.RiskAssessment/GetAssessment` hosted as the mesh hosts its components (grpc-dotnet, AddChainGrpc), answering a fixed assessment: the service does no work, so the difference is the gateway's cost alone. The municipality's grant lets 4 of 8 fields leave.");
        text.AppendLine("- **signal**: `/chain.signals.v1.SignalIntake/GetSignal` on the real signal intake of the same mesh, reading a stored signal from its SQLite database: the police reading back its own signal (grant `police-signalling`).");
        text.AppendLine();
        text.AppendLine("| service | load | route | requests/s | p50 ms | p99 ms | failed |");
        text.AppendLine("|---|---|---|---:|---:|---:|---:|");
        foreach (var scenario in scenarios)
        {
            foreach (var profile in profiles)
            {
                foreach (var route in Routes)
                {
                    var r = results[(scenario.Name, route, profile.Name)];
                    text.AppendLine(CultureInfo.InvariantCulture, $"| {scenario.Name} | {profile.Name} | {route} | {r.RequestsPerSecond:N0} | {r.P50Milliseconds:N2} | {r.P99Milliseconds:N2} | {r.Failed} |");
                }
            }
        }
        text.AppendLine();
        foreach (var scenario in scenarios)
        {
            foreach (var profile in profiles)
            {
                var direct = results[(scenario.Name, "direct", profile.Name)];
                var bare = results[(scenario.Name, "yarp hop", profile.Name)];
                var gateway = results[(scenario.Name, "gateway", profile.Name)];
                var single = SingleRecordCommit(commits, scenario.Name, profile.Name);
                text.AppendLine(CultureInfo.InvariantCulture, $"- {scenario.Name}, {profile.Name}: the bare hop gives {bare.RequestsPerSecond / direct.RequestsPerSecond:P0} of direct throughput; the gateway {gateway.RequestsPerSecond / bare.RequestsPerSecond:N2}× the bare hop's (aim ≥ 0.80× under load); gateway p50 {gateway.P50Milliseconds:N2} ms against the bare hop's {bare.P50Milliseconds:N2} ms + one disk sync {fsync:N2} ms + 0.2 ms = {bare.P50Milliseconds + fsync + 0.2:N2} ms (aim for one call at a time: at most that); against the bare hop + the log's own commit of one record under this load ({single:N2} ms) + 0.2 ms = {bare.P50Milliseconds + single + 0.2:N2} ms.");
            }
        }
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"The floor under a durable audit record on this machine: one sync of the log's disk takes {fsync:N2} ms (median of 200 syncs of a 4 KiB write, measured in this run). The log's own commit (`ketenmesh.audit.commit.duration`, read from the gateway while it ran) writes more than one page: the record, an entry in each of its five indexes (partner, subject, retention class and time, and the officers' search by purpose and by method) and the chain's head, each a 4 KiB page in SQLite's write-ahead log, then one sync:");
        text.AppendLine();
        text.AppendLine("A call whose answer names a person other than the subject it asked about waits for two commits in a row: its decision before it is forwarded, and the person found before the answer leaves (the signal read here names the registration the registry made of it, so a data subject's access report shows the read). One call at a time, that is two of the commits below.");
        text.AppendLine();
        text.AppendLine("| service | load | commits | records per commit (mean) | one-record commit p50 ms | every commit p50 / p99 ms |");
        text.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var ((scenarioName, profileName), list) in commits.OrderBy(c => c.Key.Scenario).ThenBy(c => c.Key.Profile))
        {
            var all = list.Select(c => c.Milliseconds).Order().ToArray();
            text.AppendLine(CultureInfo.InvariantCulture, $"| {scenarioName} | {profileName} | {list.Count:N0} | {list.Average(c => c.Records):N1} | {SingleRecordCommit(commits, scenarioName, profileName):N2} | {H2Load.Percentile(all, 0.5):N2} / {H2Load.Percentile(all, 0.99):N2} |");
        }
        text.AppendLine();
        var cores = Environment.ProcessorCount;
        foreach (var scenario in scenarios)
        {
            var throughput = profiles[0];
            var bare = results[(scenario.Name, "yarp hop", throughput.Name)];
            // The machine's time per call at the hop's rate, and at 0.8× that rate: the difference is all the gateway may add.
            var hopCost = cores * 1_000_000 / bare.RequestsPerSecond;
            var budget = hopCost / 0.8 - hopCost;
            text.AppendLine(CultureInfo.InvariantCulture, $"- {scenario.Name}, {throughput.Name}: the bare hop uses {hopCost:N0} µs of the machine ({cores} cores, with the load generator and the service) per call; 0.8× its throughput leaves {budget:N0} µs per call for everything the gateway adds. Minting the call's transaction token (ES256) alone takes {signing:N0} µs (median of 2,000, measured in this run), so the aim is {(signing > budget ? "out of reach with a signed token per call" : "within reach of the signature alone")}.");
        }
        text.AppendLine();
        text.AppendLine("The answers through the gateway, checked before the run:");
        text.AppendLine();
        foreach (var scenario in scenarios)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {scenario.Name}: `{scenario.Answer}`");
        }
        text.AppendLine();
        return text.ToString();
    }

    private static double SingleRecordCommit(Dictionary<(string Scenario, string Profile), List<(double Milliseconds, int Records)>> commits, string scenario, string profile)
    {
        var single = commits.GetValueOrDefault((scenario, profile), []).Where(c => c.Records == 1).Select(c => c.Milliseconds).Order().ToArray();
        return single.Length == 0 ? double.NaN : H2Load.Percentile(single, 0.5);
    }

    /// <summary>The gateway's audit commits (<see cref="AuditMetrics"/>) as they happen, from the mesh's own meters only.</summary>
    private sealed class AuditCommits : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(double Milliseconds, int Records)> _seen = [];

        public AuditCommits(IMeterFactory meters)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == AuditMetrics.CommitDurationName && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
            {
                var records = 0;
                foreach (var tag in tags)
                {
                    records = tag.Key == AuditMetrics.RecordsTag ? Convert.ToInt32(tag.Value, CultureInfo.InvariantCulture) : records;
                }
                lock (_seen)
                {
                    _seen.Add((seconds * 1000, records));
                }
            });
            _listener.Start();
        }

        public List<(double Milliseconds, int Records)> Take()
        {
            lock (_seen)
            {
                var taken = _seen.ToList();
                _seen.Clear();
                return taken;
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
