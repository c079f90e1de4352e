using System.Collections.Concurrent;
using Chain.Events.V1;
using Chain.Signals.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Testing;
using MassTransit;
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
    private readonly ComponentHost _host;

    private SignalsHost(ComponentHost host, ReceivedEvents events)
    {
        _host = host;
        Events = events;
    }

    public GrpcChannel Channel => _host.Channel;

    public Uri Address => _host.Address;

    public ReceivedEvents Events { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>Embedded profile: SQLite file in the given directory (kept, so a restart finds it) and the in-process bus.</summary>
    public static Task<SignalsHost> StartEmbeddedAsync(string dataDirectory, ReceivedEvents? events = null) =>
        StartAsync(ComponentHost.EmbeddedSettings(new SignalsComponent(), dataDirectory), events);

    /// <param name="listenOnBus">False when the test listens from outside the process (real profile).</param>
    public static async Task<SignalsHost> StartAsync(Dictionary<string, string?> settings, ReceivedEvents? events = null, bool listenOnBus = true)
    {
        events ??= new ReceivedEvents();
        var host = await ComponentHost.StartAsync(new SignalsComponent(), settings, listenOnBus
            ? (services, bus) =>
            {
                services.AddSingleton(events);
                bus.AddConsumer<SignalReceivedProbe>();
            }
            : null);
        return new SignalsHost(host, events);
    }

    public static CallOptions As(string partner) => ComponentHost.As(partner);

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
