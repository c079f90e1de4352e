using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Chain.Signals.V1;
using Google.Protobuf.Reflection;
using Grpc.Health.V1;
using Grpc.Reflection.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;

namespace Ketenmesh.Mesh.Tests;

/// <summary>The embedded mesh as `./mesh up` runs it: a real process, stopped with SIGTERM.</summary>
public sealed class EmbeddedMeshProcessTests : IAsyncLifetime
{
    private readonly string _root;
    private readonly string _dataDirectory;
    private readonly StringBuilder _output = new();
    private Process _process = null!;
    private int _signalsPort;
    private int _gatewayPort;
    private int _identityPort;

    public EmbeddedMeshProcessTests()
    {
        _root = Directory.CreateTempSubdirectory("ketenmesh-mesh-").FullName;
        // Not there yet: the mesh creates it, as on a fresh clone.
        _dataDirectory = Path.Combine(_root, "data");
    }

    private readonly List<string> _arguments = [];

    public async Task InitializeAsync()
    {
        _signalsPort = FreePort();
        _arguments.Add(Path.Combine(AppContext.BaseDirectory, "Ketenmesh.Mesh.dll"));
        _arguments.Add($"--Mesh:DataDirectory={_dataDirectory}");
        _arguments.Add($"--Components:signals:Service:Port={_signalsPort}");
        _arguments.Add($"--ReverseProxy:Clusters:signals:Destinations:signals:Address=http://127.0.0.1:{_signalsPort}");
        // The other components' fixed ports may be taken on a test machine.
        var identity = _identityPort = FreePort();
        _arguments.Add($"--Components:identity:Service:Port={identity}");
        _gatewayPort = FreePort();
        _arguments.Add($"--Components:gateway:Service:Port={_gatewayPort}");
        var risk = FreePort();
        _arguments.Add($"--Components:risk:Service:Port={risk}");
        _arguments.Add($"--ReverseProxy:Clusters:risk:Destinations:risk:Address=http://127.0.0.1:{risk}");
        var registry = FreePort();
        _arguments.Add($"--Components:registry:Service:Port={registry}");
        _arguments.Add($"--ReverseProxy:Clusters:registry:Destinations:registry:Address=http://127.0.0.1:{registry}");
        var shelter = FreePort();
        _arguments.Add($"--Components:shelter:Service:Port={shelter}");
        _arguments.Add($"--ReverseProxy:Clusters:shelter:Destinations:shelter:Address=http://127.0.0.1:{shelter}");
        var returns = FreePort();
        _arguments.Add($"--Components:returns:Service:Port={returns}");
        _arguments.Add($"--ReverseProxy:Clusters:returns:Destinations:returns:Address=http://127.0.0.1:{returns}");
        _arguments.Add($"--Components:gateway:Service:TlsPort={FreePort()}");
        _arguments.Add($"--Gateway:Authority=http://127.0.0.1:{identity}");
        var policy = FreePort();
        _arguments.Add($"--Components:policy:Service:Port={policy}");
        _arguments.Add($"--Gateway:PolicyAddress=http://127.0.0.1:{policy}");
        _arguments.Add($"--SharingPolicy:Authority=http://127.0.0.1:{identity}");
        _arguments.Add($"--Components:console:Service:Port={FreePort()}");
        _arguments.Add($"--Console:Authority=http://127.0.0.1:{identity}");
        _arguments.Add($"--Console:PolicyAddress=http://127.0.0.1:{policy}");
        await StartAsync();
    }

    /// <summary>Starts the mesh process with the same arguments (and so the same data directory and ports) and waits until it is ready.</summary>
    private async Task StartAsync()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }
        lock (_output)
        {
            _output.Clear();
        }
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (!Output.Contains("Ready.", StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow >= deadline)
            {
                // A mesh that never got ready is stopped here: xUnit does not dispose a test whose start failed.
                var exited = _process.HasExited;
                if (!exited)
                {
                    _process.Kill(entireProcessTree: true);
                }
                Assert.Fail(exited ? $"the mesh exited early:\n{Output}" : $"the mesh did not become ready:\n{Output}");
            }
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    [Fact]
    public async Task The_demo_plays_the_chain_through_the_gateway_and_shows_each_partner_what_its_grant_allows()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await DemoAsync(output, error);

        var text = output.ToString();
        Assert.True(exit == 0, $"{error}\n{text}\n{Output}");
        Assert.Contains("band Critical", text);
        Assert.Contains("MUN-131 +20", text);
        Assert.Contains("(the same: True)", text);
        Assert.Contains("reporter identity stored: none", text);
        Assert.Contains("aangifte Made; reflection period EndedAangifte; B8/3 Aangifte Pending", text);
        Assert.Contains("[rapporteur  ] Labour: withheld", text);
        Assert.Contains("PermissionDenied: Your token does not carry purpose 'criminal_investigation'", text);
        // The municipality's mask: band and track, never the score or the rules.
        var municipality = text.Split('\n').Single(l => l.Contains("[municipality]", StringComparison.Ordinal));
        Assert.Contains("RISK_BAND_CRITICAL", municipality);
        Assert.DoesNotContain("score", municipality);
        Assert.Equal(3, text.Split('\n').Count(l => l.Contains("worker-", StringComparison.Ordinal) && l.Contains("Registered", StringComparison.Ordinal)));
        // Shelter: a bed held before the raid, confirmed while CoMensha watches, a full house reported.
        Assert.Contains("bed held at shelter-acm", text);
        Assert.Contains(": Arranged, 3 at shelter-social-den-haag held until ", text);
        Assert.Contains("[shelter-acm ] placement", text);
        Assert.Contains("COSM: not admitted (NotInReflectionPeriod, AangifteMade), on the WomensOrSocialShelter list", text);
        Assert.Contains("] changed: AdultWomen 1 occupied, 0 held, 3 free of 4", text);
        Assert.Contains("[shelter-pmw ] reported Cosm 25 occupied, 0 held, 0 free of 25", text);
        Assert.Contains("shelters with a free COSM bed: COSM ACM, Jade", text);
        // Return coordination: no departure while D9 holds it, resumed on the IND's decision; CoMensha sees a return only under consent.
        Assert.Contains("FailedPrecondition: A voluntary return cannot be planned: departure is suspended", text);
        Assert.Contains("D9 Lifted (ResidenceRefused)", text);
        var comensha = text.Split('\n').Where(l => l.Contains("[comensha    ]", StringComparison.Ordinal) && l.Contains("\"returnCase\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, comensha.Count);
        Assert.Contains("\"departure\"", comensha[0]);
        Assert.DoesNotContain("\"departure\"", comensha[1]);
        Assert.Contains("\"leftReturnTrack\": true", comensha[1]);
        Assert.DoesNotContain("\"supportCap\"", comensha[0]);
    }

    private Task<int> DemoAsync(TextWriter output, TextWriter error, int? gatewayPort = null) =>
        Ketenmesh.Mesh.Demo.DemoCommand.RunAsync(
            ["demo", "--gateway", $"http://127.0.0.1:{gatewayPort ?? _gatewayPort}", "--identity", $"http://127.0.0.1:{_identityPort}", $"--Mesh:DataDirectory={_dataDirectory}"], output, error);

    [Fact]
    public async Task The_demo_plays_again_with_fresh_people_after_the_mesh_restarts_and_every_run_finds_the_beds_as_the_first_did()
    {
        var first = new StringWriter();
        var error = new StringWriter();
        Assert.True(await DemoAsync(first, error) == 0, $"{error}\n{first}\n{Output}");

        Assert.Equal(0, Interop.Kill(_process.Id, Interop.SigTerm));
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(20)), "the mesh did not stop within 20 s of SIGTERM");
        _process.Dispose();
        await StartAsync();

        var second = new StringWriter();
        var exit = await DemoAsync(second, error);

        var text = second.ToString();
        Assert.True(exit == 0, $"{error}\n{text}\n{Output}");
        Assert.Equal("", error.ToString());
        // The same day again, with new people: her reflection period is granted anew, not refused as already granted.
        Assert.Contains("(the same: True)", text);
        Assert.Contains("aangifte Made; reflection period EndedAangifte; B8/3 Aangifte Pending", text);
        Assert.Contains("D9 Lifted (ResidenceRefused)", text);
        Assert.NotEqual(SignalIds(first.ToString()), SignalIds(text));
        // The first run gave back what it took: the group's places, her bed, her waiting request.
        Assert.Contains(": Arranged, 3 at shelter-social-den-haag held until ", text);
        Assert.Contains("] changed: AdultWomen 1 occupied, 0 held, 3 free of 4", text);
        Assert.Contains(": Ended, 3 at shelter-social-den-haag given back", first.ToString());
        Assert.DoesNotContain("cannot show this step", text);
        Assert.Contains(": Cancelled", first.ToString());
        // And once more on the same mesh: still as the first run found it.
        var third = new StringWriter();
        Assert.True(await DemoAsync(third, error) == 0, $"{error}\n{third}\n{Output}");
        Assert.Contains(": Arranged, 3 at shelter-social-den-haag held until ", third.ToString());
        Assert.Contains("] changed: AdultWomen 1 occupied, 0 held, 3 free of 4", third.ToString());
    }

    private static string SignalIds(string demoOutput) =>
        string.Join(",", demoOutput.Split('\n').Where(l => l.Contains("[police      ] signal ", StringComparison.Ordinal)));

    [Fact]
    public async Task A_failed_demo_step_prints_one_line_naming_the_step_and_the_status()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        // Straight at a service instead of the gateway: the service believes no one but the gateway, so step 1 is refused.
        var exit = await DemoAsync(output, error, gatewayPort: _signalsPort);

        Assert.Equal(1, exit);
        var line = error.ToString().TrimEnd();
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("The demo stopped at step 1: Unauthenticated: ", line);
        Assert.DoesNotContain(" at Ketenmesh.", output.ToString() + line);
    }

    [Fact]
    public async Task Mesh_prints_each_endpoint_serves_health_and_stops_cleanly_on_sigterm()
    {
        Assert.Contains($"signals          h2c://127.0.0.1:{_signalsPort}", Output);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_signalsPort}");
        var client = channel;
        var health = await client.Health().CheckAsync(new HealthCheckRequest { Service = "chain.signals.v1.SignalIntake" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        var watch = Stopwatch.StartNew();
        Assert.Equal(0, Interop.Kill(_process.Id, Interop.SigTerm));
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(20)), "the mesh did not stop within 20 s of SIGTERM");
        Assert.Equal(0, _process.ExitCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task The_console_and_each_accounts_password_are_printed_the_first_time_then_only_where_it_is_kept()
    {
        Assert.Contains("console          http://127.0.0.1:", Output);
        foreach (var account in OfficerPasswords.Accounts)
        {
            var file = OfficerPasswords.PathOf(_dataDirectory, account);
            Assert.Contains($"sign in as {account}", Output);
            Assert.Contains($"password {File.ReadAllText(file).Trim()}  (shown this once; kept in {file})", Output);
        }

        Assert.Equal(0, Interop.Kill(_process.Id, Interop.SigTerm));
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(20)), "the mesh did not stop within 20 s of SIGTERM");
        _process.Dispose();
        await StartAsync();

        // What the second start printed (the output is the current process's).
        var again = Output;
        foreach (var account in OfficerPasswords.Accounts)
        {
            var file = OfficerPasswords.PathOf(_dataDirectory, account);
            Assert.Contains($"password in {file}", again);
            Assert.DoesNotContain(File.ReadAllText(file).Trim(), again);
        }
    }

    [Fact]
    public async Task Each_component_keeps_its_data_in_its_own_sqlite_file_across_restarts()
    {
        // Straight to the service, with a token minted by the mesh's own gateway keys: what the gateway would send.
        using var channel = TestGateway.UsingKeysOf(_dataDirectory, new Uri($"http://127.0.0.1:{_gatewayPort}")).Channel(new Uri($"http://127.0.0.1:{_signalsPort}"));
        var headers = new Metadata { { CallerPartner.PartnerHeader, "police" } };
        var response = await channel.Intake().SubmitSignalAsync(new SubmitSignalRequest
        {
            ClientRequestId = "mesh-1",
            Observation = new SignalObservation { Channel = SignalChannel.Police, ObservedIndicators = { Chain.Common.V1.Indicator.FreedomNoOwnIdPapers } },
        }, new CallOptions(headers: headers));
        Assert.False(response.Duplicate);
        Assert.True(File.Exists(Path.Combine(_dataDirectory, "signals.db")));
    }

    [Fact]
    public void The_data_directory_and_everything_in_it_is_readable_by_its_owner_only()
    {
        const UnixFileMode groupAndOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        var directory = new DirectoryInfo(_dataDirectory);
        var entries = directory.EnumerateFileSystemInfos("*", SearchOption.AllDirectories).ToList();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, directory.UnixFileMode);
        Assert.Contains(entries, e => e.Name == "signals.db");
        Assert.Contains(entries, e => e.Name.EndsWith(".db-wal", StringComparison.Ordinal));
        Assert.Empty(entries.Where(e => (e.UnixFileMode & groupAndOthers) != 0).Select(e => $"{Path.GetRelativePath(_dataDirectory, e.FullName)} {e.UnixFileMode}"));
    }

    [Fact]
    public async Task Reflection_on_a_components_port_lists_that_components_services()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_signalsPort}");
        using var call = channel.Reflection().ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(default));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("chain.signals.v1.SignalIntake", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    // The mesh is stopped and started again on the same ports: they must stay out of the OS's ephemeral range (FreePorts).
    private static int FreePort() => FreePorts.Next();
}

internal static class Interop
{
    public const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}
