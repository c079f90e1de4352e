using Ketenmesh.Messaging.Tests.Events;
using Ketenmesh.Messaging.Tests.Infrastructure;
using Ketenmesh.Messaging.Topology;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Messaging.Tests;

/// <summary>Each component consumes from queues of its own, named for it and the event, whatever is configured.</summary>
public sealed class ConsumerQueueTests(ITestOutputHelper output)
{
    static readonly Dictionary<string, string?> InMemorySettings = new() { ["Messaging:Transport"] = "InMemory" };

    static readonly IConfiguration InMemory = new ConfigurationBuilder().AddInMemoryCollection(InMemorySettings).Build();

    [Fact]
    public async Task Two_components_that_consume_one_event_each_get_a_queue_of_their_own_and_each_hear_every_event()
    {
        var heard = new Heard();
        var host = await TestHosts.StartAsync(output, "two-components", InMemorySettings,
            (services, configuration) =>
            {
                services.AddSingleton(heard);
                services.AddChainMessaging(configuration, "risk").AddEvents(TestEventsReflection.Descriptor).AddConsumer<RiskHearsSignals>();
            },
            (services, configuration) => services.AddChainMessaging(configuration, "registry").AddEvents(TestEventsReflection.Descriptor).AddConsumer<RegistryHearsSignals>());
        try
        {
            var queues = host.Services.GetRequiredService<ConsumerQueues>().Claims;
            Assert.Equal(["registry.signal-recorded", "risk.signal-recorded"], queues.Keys.Order());

            var bus = host.Services.GetRequiredService<IBus>();
            for (var i = 0; i < 10; i++)
            {
                await bus.Publish(new SignalRecorded { SignalId = $"sig-{i}" });
            }

            Assert.True(await TestHosts.WaitUntilAsync(() => Task.FromResult(heard.Count("risk") == 10 && heard.Count("registry") == 10), TimeSpan.FromSeconds(10)),
                $"risk heard {heard.Count("risk")}, registry heard {heard.Count("registry")} of 10");
        }
        finally
        {
            await host.ShutdownAsync();
        }
    }

    [Fact]
    public void A_second_consumer_of_one_event_in_a_component_is_refused_before_anything_starts()
    {
        var services = new ServiceCollection();
        var registry = services.AddChainMessaging(InMemory, "registry").AddEvents(TestEventsReflection.Descriptor).AddConsumer<RegistryHearsSignals>();

        var refusal = Assert.Throws<InvalidOperationException>(() => registry.AddConsumer<AnotherRegistryConsumer>());
        Assert.Contains("registry.signal-recorded", refusal.Message);
    }

    [Fact]
    public void One_consumer_class_cannot_serve_two_components()
    {
        var services = new ServiceCollection();
        services.AddChainMessaging(InMemory, "risk").AddConsumer<RiskHearsSignals>();

        var refusal = Assert.Throws<InvalidOperationException>(() => services.AddChainMessaging(InMemory, "registry").AddConsumer<RiskHearsSignals>());
        Assert.Contains("risk.signal-recorded", refusal.Message);
    }

    [Theory]
    [InlineData("Registry")]
    [InlineData("registry.signals")]
    [InlineData("")]
    [InlineData("1registry")]
    public void A_component_name_that_could_blur_queue_names_is_refused(string component) =>
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddChainMessaging(InMemory, component));

    [Fact]
    public void A_queue_is_named_for_the_component_and_the_event_it_consumes() =>
        Assert.Equal("registry.signal-recorded", ConsumerQueues.QueueName("registry", typeof(RegistryHearsSignals)));

    sealed class Heard
    {
        readonly Dictionary<string, int> _counts = [];

        public void Add(string component)
        {
            lock (_counts)
            {
                _counts[component] = _counts.GetValueOrDefault(component) + 1;
            }
        }

        public int Count(string component)
        {
            lock (_counts)
            {
                return _counts.GetValueOrDefault(component);
            }
        }
    }

    sealed class RiskHearsSignals(Heard heard) : IConsumer<SignalRecorded>
    {
        public Task Consume(ConsumeContext<SignalRecorded> context)
        {
            heard.Add("risk");
            return Task.CompletedTask;
        }
    }

    sealed class RegistryHearsSignals(Heard heard) : IConsumer<SignalRecorded>
    {
        public Task Consume(ConsumeContext<SignalRecorded> context)
        {
            heard.Add("registry");
            return Task.CompletedTask;
        }
    }

    sealed class AnotherRegistryConsumer : IConsumer<SignalRecorded>
    {
        public Task Consume(ConsumeContext<SignalRecorded> context) => Task.CompletedTask;
    }
}
