using Chain.Common.V1;
using Chain.Signals.V1;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Risk.Persistence;
using Ketenmesh.Signals;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Risk.Tests;

/// <summary>
/// Signal intake and risk assessment as separate services on the real profile: each its own
/// PostgreSQL database, RabbitMQ between them. The broker is cut off and the assessor restarted
/// while signals stream in; every accepted signal must still be assessed, once.
/// </summary>
public sealed class RealProfileTests : IAsyncLifetime
{
    private TestDatabase _signalsDb = null!;
    private TestDatabase _riskDb = null!;
    private TestVirtualHost _broker = null!;
    private Dictionary<string, string?> _signalsUser = null!;

    public async Task InitializeAsync()
    {
        _signalsDb = await TestDatabase.CreateAsync("signals");
        _riskDb = await TestDatabase.CreateAsync("risk");
        _broker = await TestVirtualHost.CreateAsync();
        _signalsUser = await _broker.AddUserAsync("signals");
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _riskDb.DisposeAsync();
        await _signalsDb.DisposeAsync();
    }

    private static Dictionary<string, string?> Merge(params Dictionary<string, string?>[] parts) =>
        parts.SelectMany(p => p).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    private Dictionary<string, string?> RiskSettings(Dictionary<string, string?> user) => Merge(_riskDb.Settings("Database"), _broker.MessagingSettings("risk"), user);

    [Fact]
    public async Task Every_accepted_signal_is_assessed_once_although_the_broker_drops_and_the_assessor_restarts()
    {
        var signalsSettings = Merge(_signalsDb.Settings("Database"), _broker.MessagingSettings("signals"), _signalsUser);
        await using var signals = await ComponentHost.StartAsync(new SignalsComponent(), signalsSettings);
        var risk = await RiskHost.StartAsync(RiskSettings(await _broker.AddUserAsync("risk-1")));
        var client = signals.Client;
        var submit = Method<SubmitSignalRequest, SubmitSignalResponse>.From(SignalsReflection.Descriptor.Services[0].FindMethodByName("SubmitSignal"));
        var accepted = new List<string>();
        try
        {
            for (var i = 0; i < 60; i++)
            {
                if (i == 20)
                {
                    Assert.Equal(1, await _broker.CloseConnectionsOfAsync("risk-1"));
                }
                // Down for a while: what signal intake publishes meanwhile waits in the assessor's durable queue.
                if (i == 40)
                {
                    await risk.DisposeAsync();
                    // A real restart ends the process and all its connections; in this test process the
                    // broker user's removal does that (docs/adr/0002).
                    await _broker.RemoveUserAsync("risk-1");
                }
                if (i == 45)
                {
                    risk = await RiskHost.StartAsync(RiskSettings(await _broker.AddUserAsync("risk-2")));
                }
                var response = await client.UnaryCall(submit, new SubmitSignalRequest
                {
                    ClientRequestId = $"flow-{i}",
                    Observation = new SignalObservation
                    {
                        Channel = SignalChannel.Inspectorate,
                        ReporterType = ReporterType.Professional,
                        ObservedIndicators = { Indicator.LabourDocumentsConfiscated, Indicator.LabourTravelDebt },
                        SuspectedForm = FormOfExploitation.Labour,
                        Sector = Sector.AgricultureHorticulture,
                        ObservedOn = new Date { Year = 2026, Month = 11, Day = 3 },
                        Municipality = new Municipality { Code = "GM0599", Name = "Rotterdam" },
                    },
                }, RiskHost.As("inspectorate"));
                accepted.Add(response.Signal.SignalId);
            }

            var assessed = await WaitForAssessmentsAsync(risk, accepted.Count, TimeSpan.FromSeconds(60));

            var missing = accepted.Select((id, i) => (id, i)).Where(p => assessed.All(a => a.SignalId != p.id)).Select(p => p.i).ToList();
            var consumers = missing.Count == 0 ? "" : await Rabbitmqctl.RunAsync("-q", "list_consumers", "-p", _broker.Name);
            var connections = missing.Count == 0 ? "" : await Rabbitmqctl.RunAsync("-q", "list_connections", "-p", _broker.Name, "user", "name", "state", "channels");
            var queues = missing.Count == 0 ? "" : await Rabbitmqctl.RunAsync("-q", "list_queues", "-p", _broker.Name, "name", "messages_ready", "messages_unacknowledged", "consumers");
            Assert.True(missing.Count == 0, $"not assessed: signals {string.Join(", ", missing)}\n{consumers}\n{connections}\n{queues}");
            Assert.Equal(accepted.Count, assessed.Count);
        }
        finally
        {
            await risk.DisposeAsync();
        }
    }

    private static async Task<List<AssessmentRow>> WaitForAssessmentsAsync(RiskHost risk, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using var scope = risk.Services.CreateAsyncScope();
            var rows = await scope.ServiceProvider.GetRequiredService<RiskDbContext>().Assessments.AsNoTracking().ToListAsync();
            if (rows.Count >= expected || DateTime.UtcNow > deadline)
            {
                return rows;
            }
            await Task.Delay(100);
        }
    }
}
