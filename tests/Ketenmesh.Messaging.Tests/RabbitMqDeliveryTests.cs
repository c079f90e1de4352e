using System.Diagnostics;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Messaging.Tests.Chain;
using Ketenmesh.Messaging.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Ketenmesh.Messaging.Recovery;
using Microsoft.Extensions.Hosting;

namespace Ketenmesh.Messaging.Tests;

/// <summary>
/// The real profile: two services, each with its own PostgreSQL database and its own host, talking
/// through a real RabbitMQ. Connections are killed and a consumer is restarted while events are in
/// flight; afterwards every event must have been applied exactly once.
/// </summary>
public sealed class RabbitMqDeliveryTests(ITestOutputHelper output) : RealProfileFixture
{
    // A bus still down after 10 s is taken for stuck: the process asks its supervisor for a restart.
    static readonly Dictionary<string, string?> Recovery = new() { ["Messaging:RecoveryTimeout"] = "00:00:10" };

    Dictionary<string, string?> IntakeSettings() => IntakeSettings(Recovery);

    Dictionary<string, string?> RegistrySettings() => RegistrySettings(Recovery);

    [Fact]
    public async Task Killed_connections_and_a_restarted_consumer_lose_nothing_and_apply_nothing_twice()
    {
        const int signals = 300;
        await using var intake = await Supervisor.StartAsync(output, Broker, "intake", IntakeSettings(), Components.Intake);
        await using var registry = await Supervisor.StartAsync(output, Broker, "registry", RegistrySettings(), Components.Registry);
        var duplicates = 0;
        var clock = Stopwatch.StartNew();
        for (var number = 1; number <= signals; number++)
        {
            if (number % 75 == 0)
            {
                // Every connection of the virtual host: the publisher's and the consumer's.
                await Broker.CloseConnectionsAsync();
            }

            if (number == 150)
            {
                // The consumer process goes away mid-flow (its prefetched, unacknowledged
                // deliveries return to the queue) and a new one takes over.
                duplicates += registry.Host.Services.GetRequiredService<RegistryProbe>().Duplicates;
                await registry.RestartAsync();
            }

            await IntakeDesk.RecordAsync(intake.Host.Services, $"sig-{number:D4}", number);
        }

        var arrived = await TestHosts.WaitUntilAsync(async () => await CountVictimsAsync(registry) >= signals, TimeSpan.FromSeconds(180));
        await Task.Delay(1000); // a late second copy would land now
        duplicates += registry.Host.Services.GetRequiredService<RegistryProbe>().Duplicates;

        var victims = await VictimsAsync(registry.Host);
        output.WriteLine($"real profile: {signals} signals recorded, {victims.Count} registrations, {duplicates} redelivered copies skipped " +
            $"by the inbox, 4 connection kills, 1 planned consumer restart, {registry.Restarts + intake.Restarts - 1} restarts by the bus watchdog; " +
            $"all applied after {clock.ElapsedMilliseconds} ms");
        if (!arrived)
        {
            output.WriteLine($"undispatched outbox rows: {await UndispatchedAsync(intake.Host)}; queues:\n" +
                await Rabbitmqctl.RunAsync("-q", "list_queues", "-p", Broker.Name, "name", "messages_ready", "messages_unacknowledged", "consumers"));
        }

        Assert.True(arrived, $"only {victims.Count} of {signals} registrations arrived");
        Assert.Equal(signals, victims.Count);
        Assert.Equal(Enumerable.Range(1, signals).Select(n => (long)n), victims.Select(v => v.Number).Order());
        Assert.Equal(0, await UndispatchedAsync(intake.Host));
    }

    [Fact]
    public async Task A_bus_that_cannot_reconnect_stops_its_process_with_exit_code_75()
    {
        var exit = new RecordingProcessExit();
        var registry = await TestHosts.StartAsync(output, "registry",
            TestHosts.Merge(RegistrySettings(), [new("Messaging:RecoveryTimeout", "00:00:02")]),
            [(services, _) => services.AddSingleton<IProcessExit>(exit), Components.Registry]);
        try
        {
            var stopping = new TaskCompletionSource();
            registry.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());

            // From now on the broker refuses the connection (its virtual host is gone), so nothing
            // inside the process can recover: only its supervisor can, by restarting it.
            await Rabbitmqctl.RunAsync("-q", "delete_vhost", Broker.Name);

            Assert.Equal(BusWatchdog.ExitCode, await exit.Requested.WaitAsync(TimeSpan.FromSeconds(60)));
            await stopping.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await registry.ShutdownAsync();
        }
    }

    [Fact]
    public async Task Events_committed_while_the_publisher_was_down_leave_when_it_comes_back()
    {
        var registry = await TestHosts.StartAsync(output, "registry", RegistrySettings(), Components.Registry);
        var intake = await TestHosts.StartAsync(output, "intake", IntakeSettings(), Components.Intake);
        try
        {
            // Committed by one instance whose dispatcher is stopped before it can publish: the rows
            // wait in the database, and the next instance of the service sends them.
            var dispatcher = intake.Services.GetServices<IHostedService>().OfType<OutboxDispatcher<IntakeDb>>().Single();
            await dispatcher.StopAsync(CancellationToken.None);
            for (var number = 1; number <= 50; number++)
            {
                await IntakeDesk.RecordAsync(intake.Services, $"late-{number:D3}", number);
            }

            Assert.Equal(50, await UndispatchedAsync(intake));
            await intake.ShutdownAsync();
            intake = await TestHosts.StartAsync(output, "intake-restarted", IntakeSettings(), Components.Intake);

            var arrived = await TestHosts.WaitUntilAsync(
                async () => await EmbeddedProfileTests.CountAsync(registry.Services, Registration.Victim) >= 50,
                TimeSpan.FromSeconds(60));
            Assert.True(arrived, "events committed before the restart were not sent after it");
            Assert.Equal(50, (await VictimsAsync(registry)).Select(v => v.SignalId).Distinct().Count());
            Assert.Equal(0, await UndispatchedAsync(intake));
        }
        finally
        {
            await intake.ShutdownAsync();
            await registry.ShutdownAsync();
        }
    }

    static async Task<int> CountVictimsAsync(Supervisor registry)
    {
        try
        {
            return await EmbeddedProfileTests.CountAsync(registry.Host.Services, Registration.Victim);
        }
        catch (ObjectDisposedException)
        {
            return 0; // the instance was being replaced; ask the next one
        }
    }

    static async Task<List<Registration>> VictimsAsync(IHost registry)
    {
        await using var scope = registry.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RegistryDb>().Registrations
            .Where(r => r.Kind == Registration.Victim).ToListAsync();
    }

    static async Task<int> UndispatchedAsync(IHost intake)
    {
        await using var scope = intake.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IntakeDb>().Set<OutboxMessage>().CountAsync(m => m.DispatchedAt == null);
    }
}
