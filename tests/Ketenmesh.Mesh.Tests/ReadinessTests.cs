using Grpc.Health.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Hosting.GrpcServer;
using Ketenmesh.Testing;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Ketenmesh.Mesh.Tests;

/// <summary>
/// grpc.health.v1 as the k8s probes read it, from a component running as `./mesh up --real` runs it:
/// readiness (the empty service name and each service) follows the database and the broker; liveness
/// does not.
/// </summary>
public sealed class ReadinessTests : IAsyncLifetime
{

    private RealProfile _profile = null!;

    public async Task InitializeAsync() => _profile = await RealProfile.CreateAsync();

    public async Task DisposeAsync() => await _profile.DisposeAsync();

    [Fact]
    public async Task Readiness_turns_NOT_SERVING_while_the_database_or_the_broker_is_unreachable_and_back_while_liveness_stays_SERVING()
    {
        var port = FreePorts.Next();
        var (settings, database) = await _profile.ServiceAsync("registry", brokerUser: "registry", port: port);
        using var registry = ComponentProcess.Start("registry", "Ketenmesh.Registry.dll", settings);
        await registry.WaitForAsync();
        // Over the hop's TLS, as the gateway (and its health checks) reach the service.
        using var channel = _profile.GatewayChannel("registry", port);
        var client = channel;

        await ExpectAsync(client, "", ServingStatus.Serving, registry);
        await ExpectAsync(client, "chain.registry.v1.VictimRegistry", ServingStatus.Serving, registry);

        await database!.RefuseConnectionsAsync();
        await ExpectAsync(client, "", ServingStatus.NotServing, registry);
        await ExpectAsync(client, "chain.registry.v1.VictimRegistry", ServingStatus.NotServing, registry);
        Assert.Equal(ServingStatus.Serving, await StatusAsync(client, ProcessHealth.LivenessService));
        await database.AllowConnectionsAsync();
        await ExpectAsync(client, "", ServingStatus.Serving, registry);

        await _profile.Broker.RemoveUserAsync("registry");
        await ExpectAsync(client, "", ServingStatus.NotServing, registry);
        Assert.Equal(ServingStatus.Serving, await StatusAsync(client, ProcessHealth.LivenessService));
        await _profile.Broker.RestoreUserAsync("registry");

        // MassTransit 8.5.12 does not retry a refused login ("ReceiveTransport Cannot Retry"), so the bus
        // stays down after the user is back; the bus watchdog ends the process with 75 and its supervisor
        // starts it again (docs/adr/0002). The test plays the supervisor. Should a later MassTransit recover
        // by itself, this fails and says the watchdog can go.
        Assert.True(registry.Process.WaitForExit(TimeSpan.FromSeconds(60)), $"the component neither recovered nor exited:\n{registry.Output}");
        Assert.Equal(75, registry.Process.ExitCode);
        Assert.Contains("ReceiveTransport Cannot Retry", registry.Output);
        using var restarted = ComponentProcess.Start("registry", "Ketenmesh.Registry.dll", settings);
        await restarted.WaitForAsync();
        await ExpectAsync(client, "", ServingStatus.Serving, restarted);

        // Its log says what happened, not the SQL it ran (which polls every second and may carry literals).
        Assert.Contains("Readiness NOT_SERVING", registry.Output);
        Assert.DoesNotContain("Executed DbCommand", registry.Output);
    }

    private static Task ExpectAsync(ChannelBase client, string service, ServingStatus expected, ComponentProcess component) =>
        Eventually.SucceedsAsync(async () =>
        {
            var status = await StatusAsync(client, service);
            Assert.True(status == expected, $"'{service}' is {status}, not {expected}; the component said:\n{component.Output}");
        }, TimeSpan.FromSeconds(25));

    private static async Task<ServingStatus> StatusAsync(ChannelBase client, string service) =>
        (await client.Health().CheckAsync(new HealthCheckRequest { Service = service }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5)))).Status;
}
