using System.Collections.Concurrent;
using Chain.Events.V1;
using Chain.Registry.V1;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using MassTransit;
using Microsoft.Extensions.Configuration;
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

    private readonly MeshApplication _mesh;
    private readonly GrpcChannel _channel;
    private readonly string _directory;

    private RegistryHost(MeshApplication mesh, RegistryEvents events, string directory)
    {
        _mesh = mesh;
        Events = events;
        _directory = directory;
        _channel = GrpcChannel.ForAddress(mesh.Addresses.First());
        Client = new GrpcClient(_channel);
    }

    public GrpcClient Client { get; }

    public RegistryEvents Events { get; }

    public static async Task<RegistryHost> StartEmbeddedAsync()
    {
        var directory = Directory.CreateTempSubdirectory("ketenmesh-registry-").FullName;
        var events = new RegistryEvents();
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite",
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(directory, "registry.db")}",
            ["Messaging:Transport"] = "InMemory",
            ["Service:Port"] = "0",
        };
        var mesh = MeshHost.Build(new WithListener(events), [], configuration => configuration.AddInMemoryCollection(settings));
        await mesh.App.StartAsync();
        return new RegistryHost(mesh, events, directory);
    }

    public static CallOptions As(string partner) => new(Headers: new Metadata { { CallerPartner.PartnerHeader, partner } });

    public Task PublishAsync<T>(T message, Guid? messageId = null) where T : class =>
        _mesh.App.Services.GetRequiredService<IBus>().Publish(message, c => c.MessageId = messageId ?? Guid.NewGuid());

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private sealed class WithListener(RegistryEvents events) : IMeshComponent
    {
        private readonly RegistryComponent _registry = new();

        public string Name => _registry.Name;

        public int DefaultPort => _registry.DefaultPort;

        public void AddServices(IServiceCollection services, IConfiguration configuration)
        {
            _registry.AddServices(services, configuration);
            services.AddSingleton(events);
            services.AddChainMessaging(configuration).AddConsumer<RegistryEventsProbe>();
        }

        public void MapEndpoints(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints) => _registry.MapEndpoints(endpoints);
    }
}
