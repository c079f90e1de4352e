using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Chain.Signals.V1;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Testing;

namespace Ketenmesh.Mesh.Tests;

/// <summary>A component as `./mesh up --real`, compose and Kubernetes run it: its own process on PostgreSQL and RabbitMQ.</summary>
public sealed class RealProfileProcessTests : IAsyncLifetime
{
    private readonly StringBuilder _output = new();
    private TestDatabase _database = null!;
    private TestVirtualHost _broker = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync("signals");
        _broker = await TestVirtualHost.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_component_whose_broker_shuts_it_out_exits_with_75_so_its_supervisor_restarts_it()
    {
        var settings = _database.Settings("Database")
            .Concat(_broker.MessagingSettings())
            .Concat(await _broker.AddUserAsync("signals"))
            .GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        // Long enough for the signal below to be accepted while the broker refuses (rabbitmqctl is slow under load), short for a test.
        settings["Messaging:RecoveryTimeout"] = "00:00:10";
        var port = FreePort();
        settings["Service:Port"] = port.ToString();
        using var process = Start("Ketenmesh.Signals.dll", settings);
        try
        {
            await WaitForAsync(process, "Ready.");

            // Nothing inside the process can get the bus back now; only a fresh start could.
            await _broker.RemoveUserAsync("signals");

            // Still accepted (the signal and its event are in PostgreSQL); its event cannot leave.
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
            var submit = Method<SubmitSignalRequest, SubmitSignalResponse>.From(SignalsReflection.Descriptor.Services[0].FindMethodByName("SubmitSignal"));
            var accepted = await new GrpcClient(channel).UnaryCall(submit, new SubmitSignalRequest
            {
                ClientRequestId = "while-the-broker-refuses",
                Observation = new SignalObservation { Channel = SignalChannel.Police, ObservedIndicators = { Chain.Common.V1.Indicator.FreedomNoOwnIdPapers } },
            }, new CallOptions(Headers: new Metadata { { CallerPartner.PartnerHeader, "police" } }));
            Assert.False(string.IsNullOrEmpty(accepted.Signal.SignalId));

            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), $"the component kept running without a bus:\n{Output}");
            Assert.Equal(75, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private Process Start(string assembly, IReadOnlyDictionary<string, string?> settings)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitForAsync(Process process, string line)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Output.Contains(line, StringComparison.Ordinal))
        {
            Assert.False(process.HasExited, $"the component exited early:\n{Output}");
            Assert.True(DateTime.UtcNow < deadline, $"the component did not become ready:\n{Output}");
            await Task.Delay(100);
        }
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
