using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Messaging.Tests.Chain;
using Ketenmesh.Messaging.Tests.Events;
using Ketenmesh.Messaging.Tests.Infrastructure;
using Ketenmesh.Messaging.Topology;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Messaging.Tests;

/// <summary>
/// A component publishes only the events it declares (Publishes), and its broker grant is derived from
/// that and its consumers' queues: the outbox refuses any other event where it is raised, instead of the
/// broker refusing it later in the dispatcher, where it would block the outbox.
/// </summary>
public sealed class PublicationTests(ITestOutputHelper output) : IDisposable
{
    readonly SqliteFiles _files = new("publications");

    [Fact]
    public async Task An_outbox_refuses_an_event_its_component_does_not_declare_it_publishes()
    {
        var settings = TestHosts.Merge([new("Messaging:Transport", "InMemory")], _files.Settings(Components.IntakeDatabase, "intake.db"));
        var host = await TestHosts.StartAsync(output, "intake", settings, Components.Intake);
        try
        {
            await using var scope = host.Services.CreateAsyncScope();
            var outbox = scope.ServiceProvider.GetRequiredService<EventOutbox<IntakeDb>>();
            outbox.Add(new SignalRecorded { SignalId = "declared", Number = 1 });
            var refused = Assert.Throws<InvalidOperationException>(() => outbox.Add(new VictimRegistered { SignalId = "not-declared", Number = 1 }));
            Assert.Contains("intake", refused.Message);
            Assert.Contains(VictimRegistered.Descriptor.FullName, refused.Message);
        }
        finally
        {
            await host.ShutdownAsync();
        }
    }

    [Fact]
    public void A_grant_is_anchored_and_takes_names_literally()
    {
        var grant = BrokerGrant.For("registry", ["ketenmesh.testing.v1.VictimRegistered"], ["registry.signal-recorded"], ["ketenmesh.testing.v1.SignalRecorded"]);

        Assert.True(BrokerGrant.Allows(grant.Write, "ketenmesh.testing.v1.VictimRegistered"));
        Assert.True(BrokerGrant.Allows(grant.Read, "registry.signal-recorded_error"));
        Assert.True(BrokerGrant.Allows(grant.Configure, "registry.signal-recorded_skipped"));
        Assert.False(BrokerGrant.Allows(grant.Write, "ketenmesh.testing.v1.SignalRecorded"));
        // A dot in a name is a dot, and nothing may be added before or after a granted name.
        Assert.False(BrokerGrant.Allows(grant.Read, "registryXsignal-recorded"));
        Assert.False(BrokerGrant.Allows(grant.Read, "other.registry.signal-recorded"));
        Assert.False(BrokerGrant.Allows(grant.Read, "registry.signal-recorded.other"));
        Assert.False(BrokerGrant.Allows(grant.Configure, "ketenmesh.testing.v1.VictimRegisteredX"));
    }

    [Fact]
    public void A_components_grant_follows_what_it_registers()
    {
        var services = new ServiceCollection();
        Components.Registry(services, new ConfigurationBuilder().AddInMemoryCollection(_files.Settings(Components.RegistryDatabase, "registry.db")).Build());
        var grant = BrokerGrant.Of(services, "registry")!;

        Assert.True(BrokerGrant.Allows(grant.Write, VictimRegistered.Descriptor.FullName));
        Assert.False(BrokerGrant.Allows(grant.Write, SignalRecorded.Descriptor.FullName));
        Assert.True(BrokerGrant.Allows(grant.Read, SignalRecorded.Descriptor.FullName));
        Assert.True(BrokerGrant.Allows(grant.Read, "registry.signal-recorded"));
    }

    public void Dispose() => _files.Dispose();
}
