using System.Collections.Concurrent;
using Chain.Events.V1;
using Chain.Registry.V1;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Registry.Tests;

/// <summary>What the registry told the chain.</summary>
public sealed class RegistryEvents
{
    public ConcurrentQueue<VictimRegistered> Registered { get; } = new();

    public ConcurrentQueue<SignalLinked> Linked { get; } = new();
}

public sealed class RegistryEventsProbe(RegistryEvents events) : IConsumer<VictimRegistered>, IConsumer<SignalLinked>
{
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
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = RegistryReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("VictimRegistry");

    public static readonly Method<RegisterVictimRequest, RegisterVictimResponse> Register = Method<RegisterVictimRequest, RegisterVictimResponse>.From(Service.FindMethodByName("RegisterVictim"));
    public static readonly Method<GetRegistrationRequest, GetRegistrationResponse> Get = Method<GetRegistrationRequest, GetRegistrationResponse>.From(Service.FindMethodByName("GetRegistration"));
    public static readonly Method<ChangeStatusRequest, ChangeStatusResponse> Change = Method<ChangeStatusRequest, ChangeStatusResponse>.From(Service.FindMethodByName("ChangeStatus"));
    public static readonly Method<FindByLinkKeysRequest, FindByLinkKeysResponse> Find = Method<FindByLinkKeysRequest, FindByLinkKeysResponse>.From(Service.FindMethodByName("FindByLinkKeys"));
    public static readonly Method<GetStatisticsRequest, GetStatisticsResponse> Statistics = Method<GetStatisticsRequest, GetStatisticsResponse>.From(Service.FindMethodByName("GetStatistics"));

    private readonly ComponentHost _host;

    private RegistryHost(ComponentHost host, RegistryEvents events)
    {
        _host = host;
        Events = events;
    }

    public GrpcClient Client => _host.Client;

    public RegistryEvents Events { get; }

    public static async Task<RegistryHost> StartEmbeddedAsync()
    {
        var events = new RegistryEvents();
        var host = await ComponentHost.StartEmbeddedAsync(new RegistryComponent(), (services, bus) =>
        {
            services.AddSingleton(events);
            bus.AddConsumer<RegistryEventsProbe>();
        });
        return new RegistryHost(host, events);
    }

    public static CallOptions As(string partner) => ComponentHost.As(partner);

    public Task PublishAsync<T>(T message, Guid? messageId = null) where T : class => _host.PublishAsync(message, messageId);

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
