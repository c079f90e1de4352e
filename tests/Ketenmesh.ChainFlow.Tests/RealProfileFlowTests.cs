using Chain.Signals.V1;
using Grpc.Net.Client;
using Ketenmesh.Registry;
using Ketenmesh.Registry.Persistence;
using Ketenmesh.Risk;
using Ketenmesh.Signals;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.ChainFlow.Tests;

/// <summary>
/// Signal intake, risk assessment and the victim registry as separate services on the real profile:
/// each its own PostgreSQL database, RabbitMQ between them. While signals stream in, the broker
/// drops the assessor's and the intake's connections and the registry restarts. Every accepted
/// signal must still come back to its signaller as registered, and every person must be registered
/// once, also when two signals about one person arrive together.
/// </summary>
public sealed class RealProfileFlowTests : IAsyncLifetime
{
    private const int People = 40;
    private RealProfile _profile = null!;

    public async Task InitializeAsync() => _profile = await RealProfile.CreateAsync();

    public async Task DisposeAsync() => await _profile.DisposeAsync();

    private async Task<Dictionary<string, string?>> SettingsAsync(string component, string user, TestDatabase? database = null) =>
        (await _profile.ServiceAsync(component, user, database)).Settings;

    private static SubmitSignalRequest Signal(int i, int person) => ChainSignals.LabourInspection($"flow-{i}", person);

    [Fact]
    public async Task Every_accepted_signal_is_registered_and_every_person_once_through_broker_drops_and_a_restart()
    {
        await using var signals = await ComponentHost.StartAsync(new SignalsComponent(), await SettingsAsync("signals", "signals"));
        await using var risk = await ComponentHost.StartAsync(new RiskComponent(), await SettingsAsync("risk", "risk"));
        var (registrySettings, registryDatabase) = await _profile.ServiceAsync("registry", "registry-1");
        var registry = await ComponentHost.StartAsync(new RegistryComponent(), registrySettings);
        var inspectorate = ComponentHost.As("inspectorate");
        var accepted = new List<string>();
        try
        {
            // 40 people, one signal each; then 20 of them signalled again two at a time (an inspection and a police check at once).
            for (var i = 0; i < People; i++)
            {
                if (i == 10)
                {
                    await _profile.Broker.KillTheConnectionOfAsync("risk");
                }
                if (i == 20)
                {
                    await registry.DisposeAsync();
                    // A real restart ends the process and its connections; here the broker user's removal does (docs/adr/0002).
                    await _profile.Broker.RemoveUserAsync("registry-1");
                }
                if (i == 25)
                {
                    registry = await ComponentHost.StartAsync(new RegistryComponent(), await SettingsAsync("registry", "registry-2", registryDatabase));
                }
                if (i == 30)
                {
                    await _profile.Broker.KillTheConnectionOfAsync("signals");
                }
                accepted.Add((await signals.Channel.Intake().SubmitSignalAsync(Signal(i, i), inspectorate)).Signal.SignalId);
            }
            for (var i = 0; i < 20; i += 2)
            {
                var pair = await Task.WhenAll(
                    signals.Channel.Intake().SubmitSignalAsync(Signal(People + i, i), inspectorate).ResponseAsync,
                    signals.Channel.Intake().SubmitSignalAsync(Signal(People + i + 1, i), inspectorate).ResponseAsync);
                accepted.AddRange(pair.Select(p => p.Signal.SignalId));
            }

            var notRegistered = accepted.ToHashSet();
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (notRegistered.Count > 0 && DateTime.UtcNow < deadline)
            {
                foreach (var id in notRegistered.ToList())
                {
                    if ((await signals.Channel.Intake().GetSignalAsync(new GetSignalRequest { SignalId = id }, inspectorate)).Signal.Status == SignalStatus.Registered)
                    {
                        notRegistered.Remove(id);
                    }
                }
                await Task.Delay(200);
            }
            await using var scope = registry.Services.CreateAsyncScope();
            var registrations = await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Registrations.AsNoTracking().ToListAsync();

            Assert.True(notRegistered.Count == 0, $"{notRegistered.Count} of {accepted.Count} signals never heard they were registered");
            Assert.Equal(People, registrations.Count);
        }
        finally
        {
            await registry.DisposeAsync();
        }
    }
}
