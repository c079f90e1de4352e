using Chain.Common.V1;
using Chain.Signals.V1;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Registry;
using Ketenmesh.Registry.Persistence;
using Ketenmesh.Risk;
using Ketenmesh.Signals;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// The chain's main flow end to end through the gateway on the real profile: signal intake, risk
/// assessment and the victim registry each on its own PostgreSQL database with RabbitMQ between them,
/// partners calling the gateway with tokens and purposes. The broker drops the assessor's connection
/// and the registry restarts while signals come in; the signaller, watching through the gateway,
/// must hear of every signal it was told was accepted, and every person must be registered once.
/// </summary>
public sealed class RealProfileChainFlowTests : IAsyncLifetime
{
    private const int People = 10;
    private RealProfile _profile = null!;

    public async Task InitializeAsync() => _profile = await RealProfile.CreateAsync();

    public async Task DisposeAsync() => await _profile.DisposeAsync();

    private static SubmitSignalRequest Signal(int i, int person)
    {
        var request = SignalCalls.Request($"real-{i}");
        request.Observation.PersonLinkKeys[0] = ChainSignals.Person(person + 1);
        return request;
    }

    [Fact]
    public async Task Through_the_gateway_on_PostgreSQL_and_RabbitMQ_every_signaller_hears_its_signal_registered_through_a_broker_drop_and_a_registry_restart()
    {
        // The services believe this test's gateway, so it must be where their CallerTrust:Gateway points.
        var gatewayPort = FreePorts.Next();
        _profile.Addresses["gateway"] = new Uri($"http://127.0.0.1:{gatewayPort}");
        await using var signals = await ComponentHost.StartAsync(new SignalsComponent(), (await _profile.ServiceAsync("signals", "signals")).Settings);
        await using var risk = await ComponentHost.StartAsync(new RiskComponent(), (await _profile.ServiceAsync("risk", "risk")).Settings);
        var registryPort = FreePorts.Next();
        var (registrySettings, registryDatabase) = await _profile.ServiceAsync("registry", "registry-1", port: registryPort);
        var registry = await ComponentHost.StartAsync(new RegistryComponent(), registrySettings);
        await using var mesh = await GatewayMesh.StartAsync(settings: new()
        {
            [GatewayComponent.DestinationKey("signals")] = signals.Address.ToString(),
            [GatewayComponent.DestinationKey("risk")] = risk.Address.ToString(),
            [GatewayComponent.DestinationKey("registry")] = registry.Address.ToString(),
            ["Components:gateway:Service:Port"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // As the table gives the gateway: the hop to the services over TLS, with the mesh authority the services trust.
            ["Gateway:MutualTls"] = "true",
            ["Mesh:DataDirectory"] = _profile.DataDirectory,
        });
        var police = GatewayMesh.Options(mesh.As("police", "signalling"));
        using var watch = mesh.Channel.Intake().WatchMySignals(new WatchMySignalsRequest { StatusFilter = { SignalStatus.Registered } }, police);
        await watch.ResponseHeadersAsync;
        var heard = new Dictionary<string, string>();
        var listening = Task.Run(async () =>
        {
            while (await watch.ResponseStream.MoveNext(CancellationToken.None))
            {
                lock (heard)
                {
                    heard[watch.ResponseStream.Current.Change.SignalId] = watch.ResponseStream.Current.Change.Outcome.RegistrationId;
                }
            }
        });
        var accepted = new List<(string SignalId, int Person)>();
        try
        {
            // Every person signalled once, and the first four a second time (a second police check about the same person).
            for (var i = 0; i < People + 4; i++)
            {
                if (i == 3)
                {
                    await _profile.Broker.KillTheConnectionOfAsync("risk");
                }
                if (i == 6)
                {
                    await registry.DisposeAsync();
                    // A real restart ends the process and its connections; here the broker user's removal does (docs/adr/0002).
                    await _profile.Broker.RemoveUserAsync("registry-1");
                    registry = await ComponentHost.StartAsync(new RegistryComponent(), (await _profile.ServiceAsync("registry", "registry-2", registryDatabase, registryPort)).Settings);
                }
                var person = i % People;
                accepted.Add(((await mesh.Channel.Intake().SubmitSignalAsync(Signal(i, person), police)).Signal.SignalId, person));
            }

            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (DateTime.UtcNow < deadline && accepted.Any(a => { lock (heard) { return !heard.ContainsKey(a.SignalId); } }))
            {
                await Task.Delay(100);
            }
            await using var scope = registry.Services.CreateAsyncScope();
            var registrations = await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Registrations.AsNoTracking().CountAsync();
            var read = await mesh.Channel.Intake().GetSignalAsync(new GetSignalRequest { SignalId = accepted[0].SignalId }, police);

            lock (heard)
            {
                Assert.True(accepted.All(a => heard.ContainsKey(a.SignalId)), $"{accepted.Count(a => !heard.ContainsKey(a.SignalId))} of {accepted.Count} signals were never heard of as registered");
                // One registration per person: a person's second signal came back with the first one's registration.
                foreach (var group in accepted.GroupBy(a => a.Person))
                {
                    Assert.Single(group.Select(a => heard[a.SignalId]).Distinct());
                }
                Assert.Equal(People, accepted.Select(a => heard[a.SignalId]).Distinct().Count());
            }
            Assert.Equal(People, registrations);
            Assert.Equal(SignalStatus.Registered, read.Signal.Status);
            Assert.Equal(PartnerType.Comensha, read.Signal.Outcome.ReferredTo);
        }
        finally
        {
            watch.Dispose();
            await registry.DisposeAsync();
            await Task.WhenAny(listening, Task.Delay(1000));
        }
    }
}
