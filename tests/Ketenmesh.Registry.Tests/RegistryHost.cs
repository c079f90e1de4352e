using System.Collections.Concurrent;
using Chain.Events.V1;
using Chain.Registry.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Registry.Tests;

/// <summary>What the registry told the chain.</summary>
public sealed class RegistryEvents
{
    public ConcurrentQueue<VictimRegistered> Registered { get; } = new();

    public ConcurrentQueue<SignalLinked> Linked { get; } = new();

    public ConcurrentQueue<ReflectionPeriodEnding> ReflectionEnding { get; } = new();

    public ConcurrentQueue<RegistrationsMerged> Merged { get; } = new();

    public ConcurrentQueue<VictimStatusChanged> StatusChanged { get; } = new();

    public ConcurrentQueue<RegistrationAdmissionFacts> AdmissionFacts { get; } = new();
}

public sealed class RegistryEventsProbe(RegistryEvents events) : IConsumer<VictimRegistered>, IConsumer<SignalLinked>,
    IConsumer<ReflectionPeriodEnding>, IConsumer<RegistrationsMerged>, IConsumer<VictimStatusChanged>, IConsumer<RegistrationAdmissionFacts>
{
    public Task Consume(ConsumeContext<RegistrationAdmissionFacts> context)
    {
        events.AdmissionFacts.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ReflectionPeriodEnding> context)
    {
        events.ReflectionEnding.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<RegistrationsMerged> context)
    {
        events.Merged.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<VictimStatusChanged> context)
    {
        events.StatusChanged.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<VictimRegistered> context)
    {
        events.Registered.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<SignalLinked> context)
    {
        events.Linked.Enqueue(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>The registry component on the embedded profile, on a free loopback port, with a listener for its events.</summary>
public sealed class RegistryHost : IAsyncDisposable
{


    private readonly ComponentHost _host;

    private RegistryHost(ComponentHost host, RegistryEvents events)
    {
        _host = host;
        Events = events;
    }

    public GrpcChannel Channel => _host.Channel;

    public RegistryEvents Events { get; }

    public IServiceProvider Services => _host.Services;

    /// <param name="clock">The registry's clock; the system clock when left out.</param>
    public static async Task<RegistryHost> StartEmbeddedAsync(TimeProvider? clock = null)
    {
        var events = new RegistryEvents();
        var directory = Directory.CreateTempSubdirectory("ketenmesh-registry-").FullName;
        var component = new RegistryComponent();
        var settings = ComponentHost.EmbeddedSettings(component, directory);
        // Looks at reflection periods often, so a moved clock is noticed within a test.
        settings["Registry:ReflectionPeriod:CheckInterval"] = "00:00:00.100";
        // Purges often too, so a moved clock's purge happens within a test.
        settings["Registry:PendingSignals:PurgeInterval"] = "00:00:00.100";
        var host = await ComponentHost.StartAsync(component, settings, (services, bus) =>
        {
            services.AddSingleton(events);
            if (clock is not null)
            {
                services.AddSingleton(clock);
            }
            bus.AddConsumer<RegistryEventsProbe>();
        }, directory);
        return new RegistryHost(host, events);
    }

    public static async Task<T> EventuallyAsync<T>(Func<T?> find) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (find() is not { } found)
        {
            Assert.True(DateTime.UtcNow < deadline, "the awaited event did not come");
            await Task.Delay(25);
        }
        return find()!;
    }

    public static CallOptions As(string partner) => ComponentHost.As(partner);

    public Task PublishAsync<T>(T message, Guid? messageId = null) where T : class => _host.PublishAsync(message, messageId);

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
