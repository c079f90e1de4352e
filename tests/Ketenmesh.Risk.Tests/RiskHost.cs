using System.Collections.Concurrent;
using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Risk.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Messaging;
using Ketenmesh.Testing;
using MassTransit;
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


    private readonly ComponentHost _host;

    private RiskHost(ComponentHost host, AssessedEvents events)
    {
        _host = host;
        Events = events;
    }

    public GrpcChannel Channel => _host.Channel;

    public AssessedEvents Events { get; }

    public IServiceProvider Services => _host.Services;

    public static Task<RiskHost> StartEmbeddedAsync() => StartAsync(null);

    /// <param name="settings">The real profile's settings; null for the embedded profile.</param>
    public static async Task<RiskHost> StartAsync(Dictionary<string, string?>? settings)
    {
        var events = new AssessedEvents();
        void Listen(IServiceCollection services, ChainMessagingBuilder bus)
        {
            services.AddSingleton(events);
            bus.AddConsumer<RiskAssessedProbe>();
        }
        var host = settings is null
            ? await ComponentHost.StartEmbeddedAsync(new RiskComponent(), Listen)
            : await ComponentHost.StartAsync(new RiskComponent(), settings, Listen);
        return new RiskHost(host, events);
    }

    public static CallOptions As(string partner) => ComponentHost.As(partner);

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
        await _host.PublishAsync(received, messageId);
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
                return (await Channel.Risk().GetAssessmentAsync(new GetAssessmentRequest { SignalId = signalId, RuleSetVersion = version }, As("police"))).Assessment;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && DateTime.UtcNow < deadline)
            {
                await Task.Delay(25);
            }
        }
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
