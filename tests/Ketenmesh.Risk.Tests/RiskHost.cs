using System.Collections.Concurrent;
using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Risk.V1;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Risk.Tests;

/// <summary>Every RiskAssessed that came off the bus.</summary>
public sealed class AssessedEvents
{
    public ConcurrentQueue<RiskAssessed> Received { get; } = new();
}

public sealed class RiskAssessedProbe(AssessedEvents events) : IConsumer<RiskAssessed>
{
    public Task Consume(ConsumeContext<RiskAssessed> context)
    {
        events.Received.Enqueue(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>The risk component hosted for real on a free loopback port, with a listener for what it publishes.</summary>
public sealed class RiskHost : IAsyncDisposable
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = RiskReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("RiskAssessment");

    public static readonly Method<GetAssessmentRequest, GetAssessmentResponse> Get = Method<GetAssessmentRequest, GetAssessmentResponse>.From(Service.FindMethodByName("GetAssessment"));
    public static readonly Method<ExplainAssessmentRequest, ExplainAssessmentResponse> Explain = Method<ExplainAssessmentRequest, ExplainAssessmentResponse>.From(Service.FindMethodByName("ExplainAssessment"));
    public static readonly Method<ListRuleSetsRequest, ListRuleSetsResponse> ListRuleSets = Method<ListRuleSetsRequest, ListRuleSetsResponse>.From(Service.FindMethodByName("ListRuleSets"));
    public static readonly Method<ReassessOpenSignalsRequest, ReassessOpenSignalsResponse> Reassess = Method<ReassessOpenSignalsRequest, ReassessOpenSignalsResponse>.From(Service.FindMethodByName("ReassessOpenSignals"));

    private readonly MeshApplication _mesh;
    private readonly GrpcChannel _channel;

    private RiskHost(MeshApplication mesh, AssessedEvents events)
    {
        _mesh = mesh;
        Events = events;
        _channel = GrpcChannel.ForAddress(mesh.Addresses.First());
        Client = new GrpcClient(_channel);
    }

    public GrpcClient Client { get; }

    public AssessedEvents Events { get; }

    public IServiceProvider Services => _mesh.App.Services;

    public static Task<RiskHost> StartEmbeddedAsync(string dataDirectory) =>
        StartAsync(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite",
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "risk.db")}",
            ["Messaging:Transport"] = "InMemory",
        });

    public static async Task<RiskHost> StartAsync(Dictionary<string, string?> settings)
    {
        var events = new AssessedEvents();
        settings["Service:Port"] = "0";
        var mesh = MeshHost.Build(new WithListener(events), [], configuration => configuration.AddInMemoryCollection(settings));
        await mesh.App.StartAsync();
        return new RiskHost(mesh, events);
    }

    public static CallOptions As(string partner) => new(Headers: new Metadata { { CallerPartner.PartnerHeader, partner } });

    /// <summary>Publishes a signal as signal intake would; the same message id makes it a redelivery.</summary>
    public async Task<SignalReceived> PublishSignalAsync(string signalId, bool minor = false, Guid? messageId = null, params Indicator[] indicators)
    {
        var received = new SignalReceived
        {
            EventId = Guid.NewGuid().ToString(),
            SignalId = signalId,
            ReporterPartner = PartnerType.Inspectorate,
            ObservedIndicators = { indicators },
            SuspectedForm = FormOfExploitation.Labour,
            MinorSuspected = minor,
        };
        await Services.GetRequiredService<IBus>().Publish(received, c => c.MessageId = messageId ?? Guid.NewGuid());
        return received;
    }

    /// <summary>The signal's current assessment, once the consumer has made it.</summary>
    public async Task<Assessment> AssessmentOfAsync(string signalId, string version = "")
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return (await Client.UnaryCall(Get, new GetAssessmentRequest { SignalId = signalId, RuleSetVersion = version }, As("police"))).Assessment;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && DateTime.UtcNow < deadline)
            {
                await Task.Delay(25);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
    }

    private sealed class WithListener(AssessedEvents events) : IMeshComponent
    {
        private readonly RiskComponent _risk = new();

        public string Name => _risk.Name;

        public int DefaultPort => _risk.DefaultPort;

        public void AddServices(IServiceCollection services, IConfiguration configuration)
        {
            _risk.AddServices(services, configuration);
            services.AddSingleton(events);
            services.AddChainMessaging(configuration).AddConsumer<RiskAssessedProbe>();
        }

        public void MapEndpoints(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints) => _risk.MapEndpoints(endpoints);
    }
}
