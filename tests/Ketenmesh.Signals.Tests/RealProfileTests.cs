using Chain.Signals.V1;
using Ketenmesh.Testing;
using static Ketenmesh.Signals.Tests.SignalsHost;

namespace Ketenmesh.Signals.Tests;

/// <summary>Signal intake on the real profile: PostgreSQL for state and outbox, RabbitMQ (quorum queues) for events.</summary>
public sealed class RealProfileTests : IAsyncLifetime
{
    private readonly ReceivedEvents _events = new();
    private TestDatabase _database = null!;
    private TestVirtualHost _broker = null!;
    private Dictionary<string, string?> _serviceUser = null!;
    private AmqpListener _listener = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync("signals");
        _broker = await TestVirtualHost.CreateAsync();
        _serviceUser = await _broker.AddUserAsync("signals");
        _listener = await AmqpListener.StartAsync(_broker, _events);
    }

    public async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        await _broker.DisposeAsync();
        await _database.DisposeAsync();
    }

    private Dictionary<string, string?> Settings() =>
        _database.Settings("Database").Concat(_broker.MessagingSettings()).Concat(_serviceUser)
            .GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    [Fact]
    public async Task Every_accepted_signal_reaches_a_listener_although_the_broker_connection_is_killed_midway()
    {
        await using var host = await StartAsync(Settings(), _events, listenOnBus: false);
        var accepted = new HashSet<string>();
        for (var i = 0; i < 150; i++)
        {
            if (i == 50 || i == 100)
            {
                await _broker.KillTheConnectionOfAsync("signals");
            }
            var response = await host.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = $"raid-{i}", Observation = Observations.LabourInspection(i) }, As("inspectorate"));
            accepted.Add(response.Signal.SignalId);
        }

        var received = await _events.WaitForAsync(150, TimeSpan.FromSeconds(60));
        Assert.Equal(accepted, received.Select(e => e.SignalId).ToHashSet());
    }

    [Fact]
    public async Task Events_not_yet_published_when_the_service_stops_leave_after_it_restarts()
    {
        var accepted = new HashSet<string>();
        await using (var first = await StartAsync(Settings(), _events, listenOnBus: false))
        {
            var submissions = Enumerable.Range(0, 80).Select(i => first.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = $"stop-{i}", Observation = Observations.LabourInspection(i) }, As("inspectorate")).ResponseAsync);
            foreach (var response in await Task.WhenAll(submissions))
            {
                accepted.Add(response.Signal.SignalId);
            }
        }

        await using var second = await StartAsync(Settings(), _events, listenOnBus: false);
        var received = await _events.WaitForAsync(80, TimeSpan.FromSeconds(60));
        Assert.Equal(accepted, received.Select(e => e.SignalId).ToHashSet());
        var read = await second.Channel.Intake().ListMySignalsAsync(new ListMySignalsRequest { PageSize = 100 }, As("inspectorate"));
        Assert.Equal(80, read.Signals.Count);
    }
}
