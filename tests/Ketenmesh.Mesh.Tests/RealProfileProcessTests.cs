using Chain.Signals.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Testing;

namespace Ketenmesh.Mesh.Tests;

/// <summary>A component as `./mesh up --real`, compose and Kubernetes run it: its own process, with the environment of deploy/components.ini.</summary>
public sealed class RealProfileProcessTests : IAsyncLifetime
{
    private RealProfile _profile = null!;

    public async Task InitializeAsync() => _profile = await RealProfile.CreateAsync();

    public async Task DisposeAsync() => await _profile.DisposeAsync();

    [Fact]
    public async Task A_component_whose_broker_shuts_it_out_exits_with_75_so_its_supervisor_restarts_it()
    {
        var port = FreePorts.Next();
        var (settings, _) = await _profile.ServiceAsync("signals", brokerUser: "signals", port: port);
        // Long enough for the signal below to be accepted while the broker refuses (rabbitmqctl is slow under load), short for a test.
        settings["Messaging:RecoveryTimeout"] = "00:00:10";
        using var signals = ComponentProcess.Start("signals", "Ketenmesh.Signals.dll", settings);
        await signals.WaitForAsync();

        // Nothing inside the process can get the bus back now; only a fresh start could.
        await _profile.Broker.RemoveUserAsync("signals");

        // Still accepted (the signal and its event are in PostgreSQL); its event cannot leave.
        using var channel = _profile.GatewayChannel("signals", port);
        var accepted = await channel.Intake().SubmitSignalAsync(new SubmitSignalRequest
        {
            ClientRequestId = "while-the-broker-refuses",
            Observation = new SignalObservation { Channel = SignalChannel.Police, ObservedIndicators = { Chain.Common.V1.Indicator.FreedomNoOwnIdPapers } },
        }, new CallOptions(headers: new Metadata { { CallerPartner.PartnerHeader, "police" } }));
        Assert.False(string.IsNullOrEmpty(accepted.Signal.SignalId));

        Assert.True(signals.Process.WaitForExit(TimeSpan.FromSeconds(60)), $"the component kept running without a bus:\n{signals.Output}");
        Assert.Equal(75, signals.Process.ExitCode);
    }

    [Fact]
    public async Task A_component_whose_port_is_taken_says_so_in_one_line_and_exits_with_1()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (settings, _) = await _profile.ServiceAsync("signals", brokerUser: "signals", port: port);
        using var signals = ComponentProcess.Start("signals", "Ketenmesh.Signals.dll", settings);

        Assert.True(signals.Process.WaitForExit(TimeSpan.FromSeconds(60)), $"the component kept running on a taken port:\n{signals.Output}");
        signals.Process.WaitForExit();
        Assert.Equal(1, signals.Process.ExitCode);
        Assert.Contains("The mesh could not start:", signals.Output, StringComparison.Ordinal);
        Assert.Contains("address already in use", signals.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", signals.Output, StringComparison.Ordinal);
    }
}
