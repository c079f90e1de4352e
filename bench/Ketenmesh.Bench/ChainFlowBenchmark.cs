using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Chain.Events.V1;
using Chain.Signals.V1;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Registry;
using Ketenmesh.Risk;
using Ketenmesh.Signals;
using Ketenmesh.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Bench;

/// <summary>
/// The chain's main flow on the real profile: signal intake, risk assessment and the victim registry as
/// three services, each on its own PostgreSQL database, RabbitMQ between them (quorum queues, outbox
/// and inbox), all on this machine. Measures a signal's way from submission to registration, one at a
/// time, and how fast a bulk stream of 1,000 signals is accepted.
/// </summary>
public static class ChainFlowBenchmark
{
    public static async Task<string> RunAsync(int sequential, int bulk)
    {
        await using var profile = await RealProfile.CreateAsync();
        async Task<Dictionary<string, string?>> Settings(string component)
        {
            var (settings, _) = await profile.ServiceAsync(component);
            settings["Logging:LogLevel:Default"] = "Warning";
            return settings;
        }
        var registered = new RegisteredSignals();
        await using var signals = await ComponentHost.StartAsync(new SignalsComponent(), await Settings("signals"));
        await using var risk = await ComponentHost.StartAsync(new RiskComponent(), await Settings("risk"));
        await using var registry = await ComponentHost.StartAsync(new RegistryComponent(), await Settings("registry"), (services, bus) =>
        {
            services.AddSingleton(registered);
            bus.AddConsumer<RegisteredProbe>();
        });
        var submit = Method<SubmitSignalRequest, SubmitSignalResponse>.From(SignalsReflection.Descriptor.Services[0].FindMethodByName("SubmitSignal"));
        var batch = Method<SubmitSignalBatchRequest, SubmitSignalBatchResponse>.From(SignalsReflection.Descriptor.Services[0].FindMethodByName("SubmitSignalBatch"));
        var inspectorate = ComponentHost.As("inspectorate");

        // Warm-up: JIT, connection pools, queues.
        for (var i = 0; i < 20; i++)
        {
            var id = (await signals.Client.UnaryCall(submit, Signal($"warm-{i}", i), inspectorate)).Signal.SignalId;
            await registered.WaitAsync(id, TimeSpan.FromSeconds(30));
        }

        var latencies = new List<double>();
        for (var i = 0; i < sequential; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var id = (await signals.Client.UnaryCall(submit, Signal($"one-{i}", 1000 + i), inspectorate)).Signal.SignalId;
            await registered.WaitAsync(id, TimeSpan.FromSeconds(30));
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        latencies.Sort();
        Console.WriteLine($"submit to registered, one at a time: p50 {Percentile(latencies, 0.50):N1} ms, p99 {Percentile(latencies, 0.99):N1} ms");

        var ids = new List<string>();
        var bulkStarted = Stopwatch.GetTimestamp();
        using (var call = signals.Client.DuplexStreamingCall(batch, inspectorate))
        {
            var reading = Task.Run(async () =>
            {
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                    if (call.ResponseStream.Current.Outcome != BatchItemOutcome.Accepted)
                    {
                        throw new InvalidOperationException($"bulk item refused: {call.ResponseStream.Current}");
                    }
                    ids.Add(call.ResponseStream.Current.SignalId);
                }
            });
            for (var i = 0; i < bulk; i++)
            {
                var item = Signal($"raid-{i}", 100_000 + i);
                await call.RequestStream.WriteAsync(new SubmitSignalBatchRequest { ClientRequestId = item.ClientRequestId, Observation = item.Observation });
            }
            await call.RequestStream.CompleteAsync();
            await reading;
        }
        var accepted = Stopwatch.GetElapsedTime(bulkStarted);
        foreach (var id in ids)
        {
            await registered.WaitAsync(id, TimeSpan.FromSeconds(300));
        }
        var allRegistered = Stopwatch.GetElapsedTime(bulkStarted);
        Console.WriteLine($"bulk of {bulk}: accepted in {accepted.TotalSeconds:N2} s, all registered after {allRegistered.TotalSeconds:N1} s");

        // Side by side: the same number of signals as unary calls, one after another, each committed on its own.
        var unaryStarted = Stopwatch.GetTimestamp();
        for (var i = 0; i < bulk; i++)
        {
            await signals.Client.UnaryCall(submit, Signal($"unary-{i}", 200_000 + i), inspectorate);
        }
        var unary = Stopwatch.GetElapsedTime(unaryStarted);
        Console.WriteLine($"{bulk} unary calls: accepted in {unary.TotalSeconds:N2} s");
        return Report(latencies, sequential, bulk, ids.Count, accepted, allRegistered, unary);
    }

    private static SubmitSignalRequest Signal(string requestId, int person) => ChainSignals.LabourInspection(requestId, person);

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static string Report(List<double> latencies, int sequential, int bulk, int accepted, TimeSpan acceptedIn, TimeSpan registeredIn, TimeSpan unary)
    {
        var text = new StringBuilder();
        text.AppendLine("## Chain flow: from signal to registration");
        text.AppendLine();
        text.AppendLine("Signal intake, risk assessment and the victim registry as three services in one process, each on its own PostgreSQL database, with RabbitMQ between them (quorum queues, outbox and inbox, every commit durable), on loopback. A signal is submitted over gRPC to signal intake; intake publishes SignalReceived, risk assessment scores it and publishes RiskAssessed, the registry registers the person and publishes VictimRegistered. The clock stops when a listener on the registry's bus receives that VictimRegistered, one hop after the registration is committed, so the figures overstate the aim's \"until the registry has the registration\" slightly. Every signal concerns a new person with a medium band, so every one is registered.");
        text.AppendLine();
        text.AppendLine("| measure | result | aim |");
        text.AppendLine("|---|---:|---|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| submit to registered, p50 ({sequential} signals one at a time, after 20 warm-up) | {Percentile(latencies, 0.50):N1} ms | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| submit to registered, p99 | {Percentile(latencies, 0.99):N1} ms | ≤ 250 ms |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| submit to registered, max | {latencies[^1]:N1} ms | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| bulk submission of {bulk:N0} signals in one SubmitSignalBatch stream, until all {accepted:N0} are accepted (each answered once durable) | {acceptedIn.TotalSeconds:N2} s | < 2 s |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| … until all {accepted:N0} are registered | {registeredIn.TotalSeconds:N1} s | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| the same {bulk:N0} signals as unary SubmitSignal calls one after another (a commit each) | {unary.TotalSeconds:N2} s | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| bulk stream against unary calls | {unary / acceptedIn:N1}× faster | |");
        text.AppendLine();
        return text.ToString();
    }

    /// <summary>VictimRegistered as it comes off the bus, by source signal.</summary>
    public sealed class RegisteredSignals
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new();

        public void Registered(string signalId) => Entry(signalId).TrySetResult();

        public Task WaitAsync(string signalId, TimeSpan timeout) => Entry(signalId).Task.WaitAsync(timeout);

        private TaskCompletionSource Entry(string signalId) => _signals.GetOrAdd(signalId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    public sealed class RegisteredProbe(RegisteredSignals signals) : IConsumer<VictimRegistered>
    {
        public Task Consume(ConsumeContext<VictimRegistered> context)
        {
            foreach (var id in context.Message.SourceSignalIds)
            {
                signals.Registered(id);
            }
            return Task.CompletedTask;
        }
    }
}
