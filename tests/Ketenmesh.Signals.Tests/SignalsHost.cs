using System.Collections.Concurrent;
using Chain.Events.V1;
using Chain.Signals.V1;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Signals.Tests;

/// <summary>What the rest of the chain heard: every SignalReceived that came off the bus.</summary>
public sealed class ReceivedEvents
{
    public ConcurrentQueue<(Guid? MessageId, SignalReceived Event)> SignalsReceived { get; } = new();

    /// <summary>
    /// Waits until events about <paramref name="count"/> different signals arrived. The bus delivers at
    /// least once: a service stopped between a publish and marking it sent publishes it again.
    /// </summary>
    public async Task<List<SignalReceived>> WaitForAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (SignalsReceived.Select(e => e.Event.SignalId).Distinct().Count() < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        return SignalsReceived.Select(e => e.Event).ToList();
    }

    public async Task<SignalReceived> WaitForAsync(Func<SignalReceived, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (SignalsReceived.Select(e => e.Event).FirstOrDefault(match) is { } found)
            {
                return found;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException("The awaited SignalReceived did not arrive.");
    }
}

/// <summary>Stands in for a downstream service (risk assessment) listening for new signals.</summary>
public sealed class SignalReceivedProbe(ReceivedEvents events) : IConsumer<SignalReceived>
{
    public Task Consume(ConsumeContext<SignalReceived> context)
    {
        events.SignalsReceived.Enqueue((context.MessageId, context.Message));
        return Task.CompletedTask;
    }
}

/// <summary>The signals component plus a downstream listener, hosted for real on a free loopback port.</summary>
public sealed class SignalsHost : IAsyncDisposable
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Service =
        SignalsReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("SignalIntake");

    public static readonly Method<SubmitSignalRequest, SubmitSignalResponse> Submit = Method<SubmitSignalRequest, SubmitSignalResponse>.From(Service.FindMethodByName("SubmitSignal"));
    public static readonly Method<GetSignalRequest, GetSignalResponse> Get = Method<GetSignalRequest, GetSignalResponse>.From(Service.FindMethodByName("GetSignal"));
    public static readonly Method<ListMySignalsRequest, ListMySignalsResponse> List = Method<ListMySignalsRequest, ListMySignalsResponse>.From(Service.FindMethodByName("ListMySignals"));
    public static readonly Method<SubmitSignalBatchRequest, SubmitSignalBatchResponse> Batch = Method<SubmitSignalBatchRequest, SubmitSignalBatchResponse>.From(Service.FindMethodByName("SubmitSignalBatch"));
    public static readonly Method<WatchMySignalsRequest, WatchMySignalsResponse> Watch = Method<WatchMySignalsRequest, WatchMySignalsResponse>.From(Service.FindMethodByName("WatchMySignals"));

    private readonly MeshApplication _mesh;
    private readonly GrpcChannel _channel;

    private SignalsHost(MeshApplication mesh, ReceivedEvents events)
    {
        _mesh = mesh;
        Events = events;
        _channel = GrpcChannel.ForAddress(mesh.Addresses.First());
        Client = new GrpcClient(_channel);
    }

    public GrpcClient Client { get; }

    public ReceivedEvents Events { get; }

    public IServiceProvider Services => _mesh.App.Services;

    /// <summary>Embedded profile: SQLite file in a fresh directory and the in-process bus.</summary>
    public static Task<SignalsHost> StartEmbeddedAsync(string dataDirectory, ReceivedEvents? events = null) =>
        StartAsync(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite",
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "signals.db")}",
            ["Messaging:Transport"] = "InMemory",
        }, events);

    /// <param name="listenOnBus">False when the test listens from outside the process (real profile).</param>
    public static async Task<SignalsHost> StartAsync(Dictionary<string, string?> settings, ReceivedEvents? events = null, bool listenOnBus = true)
    {
        events ??= new ReceivedEvents();
        settings["Service:Port"] = "0";
        IMeshComponent component = listenOnBus ? new WithDownstreamListener(events) : new SignalsComponent();
        var mesh = MeshHost.Build(component, [], configuration => configuration.AddInMemoryCollection(settings));
        await mesh.App.StartAsync();
        return new SignalsHost(mesh, events);
    }

    public static CallOptions As(string partner) => new(Headers: new Metadata { { CallerPartner.PartnerHeader, partner } });

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
    }

    private sealed class WithDownstreamListener(ReceivedEvents events) : IMeshComponent
    {
        private readonly SignalsComponent _signals = new();

        public string Name => _signals.Name;

        public int DefaultPort => _signals.DefaultPort;

        public void AddServices(IServiceCollection services, IConfiguration configuration)
        {
            _signals.AddServices(services, configuration);
            services.AddSingleton(events);
            services.AddChainMessaging(configuration).AddConsumer<SignalReceivedProbe>();
        }

        public void MapEndpoints(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints) => _signals.MapEndpoints(endpoints);
    }
}
