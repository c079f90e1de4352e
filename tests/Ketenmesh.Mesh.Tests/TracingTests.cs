using System.Diagnostics;
using Chain.Signals.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Gateway;
using Ketenmesh.Hosting;
using Ketenmesh.Mesh.Demo;
using Ketenmesh.Security;
using Ketenmesh.Testing;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Ketenmesh.Mesh.Tests;

/// <summary>
/// One partner call is one trace: from the gateway through signal intake, its outbox and the bus, to
/// the risk assessment and the registry, collected with OpenTelemetry's in-memory exporter.
/// </summary>
public sealed class TracingTests : IAsyncDisposable
{

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("ketenmesh-tracing-").FullName;
    private readonly List<Activity> _spans = [];
    private readonly List<Metric> _metrics = [];
    private readonly Dictionary<string, int> _ports = new[] { "identity", "policy", "signals", "risk", "registry", "gateway" }.ToDictionary(c => c, _ => FreePorts.Next());
    private MeshApplication? _mesh;

    [Fact]
    public async Task A_submitted_signal_is_one_trace_from_the_gateway_through_signals_and_risk_to_the_registry_and_is_counted_in_the_metrics()
    {
        var settings = new Dictionary<string, string?>(LocalProfile.Defaults)
        {
            ["Mesh:DataDirectory"] = _dataDirectory,
            ["Components:gateway:Service:TlsPort"] = FreePorts.Next().ToString(),
            ["Gateway:Authority"] = $"http://127.0.0.1:{_ports["identity"]}",
            ["Gateway:PolicyAddress"] = $"http://127.0.0.1:{_ports["policy"]}",
            ["SharingPolicy:Authority"] = $"http://127.0.0.1:{_ports["identity"]}",
            [GatewayComponent.DestinationKey("signals")] = $"http://127.0.0.1:{_ports["signals"]}",
            [GatewayComponent.DestinationKey("risk")] = $"http://127.0.0.1:{_ports["risk"]}",
            [GatewayComponent.DestinationKey("registry")] = $"http://127.0.0.1:{_ports["registry"]}",
        };
        foreach (var (component, port) in _ports)
        {
            settings[$"Components:{component}:Service:Port"] = port.ToString();
        }

        _mesh = MeshHost.BuildEmbedded(MeshComponents.All, [],
            configuration => configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = settings }),
            services =>
            {
                services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans));
                services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(_metrics));
            });
        await _mesh.App.StartAsync();

        var identity = new Uri($"http://127.0.0.1:{_ports["identity"]}");
        using var http = AuthorityHttp.For(identity);
        var police = await PartnerSession.SignInAsync(http, identity, _dataDirectory, "police");
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_ports["gateway"]}");
        var gateway = channel;
        var request = ChainSignals.LabourInspection("traced-1", 1);
        request.Observation.Channel = SignalChannel.Police;
        var signal = await RetryAsync(() => gateway.Intake().SubmitSignalAsync(request, police.For("signalling")).ResponseAsync);
        await Eventually.SucceedsAsync(async () =>
            Assert.Equal(SignalStatus.Registered, (await gateway.Intake().GetSignalAsync(new GetSignalRequest { SignalId = signal.Signal.SignalId }, police.For("signalling"))).Signal.Status));

        await Eventually.SucceedsAsync(() =>
        {
            var spans = Spans();
            // The gateway's span of the accepted call: the one whose trace reached signal intake (a call
            // refused while the gateway read its first policy never did).
            var gatewaySpan = spans.LastOrDefault(g => Port(g) == _ports["gateway"] && Tag(g, "url.path") == "/chain.signals.v1.SignalIntake/SubmitSignal"
                && spans.Any(s => s.TraceId == g.TraceId && Port(s) == _ports["signals"]))
                ?? throw new Xunit.Sdk.XunitException("no gateway span for SubmitSignal that reached signal intake, among:\n" + Describe(spans));
            var trace = spans.Where(s => s.TraceId == gatewaySpan.TraceId).ToList();
            Assert.True(trace.Count > 0, Describe(trace));
            Assert.Contains(trace, s => Port(s) == _ports["signals"] && Tag(s, "url.path") == "/chain.signals.v1.SignalIntake/SubmitSignal");
            Assert.Contains(trace, s => s.Source.Name == "Ketenmesh.Messaging" && s.Kind == ActivityKind.Producer);
            Assert.Contains(trace, s => s.Kind == ActivityKind.Consumer && Mentions(s, "risk.signal-received"));
            Assert.Contains(trace, s => s.Kind == ActivityKind.Consumer && (Mentions(s, "registry.signal-received") || Mentions(s, "registry.risk-assessed")));
            Assert.Contains(trace, s => s.Kind == ActivityKind.Consumer && Mentions(s, "signals.victim-registered"));
            return Task.CompletedTask;
        });

        // Calls by method and status, the gateway's decisions by partner, purpose and outcome, outbox and consumer lag.
        Assert.True(_mesh.App.Services.GetRequiredService<MeterProvider>().ForceFlush());
        var points = _metrics.SelectMany(m => Points(m).Select(p => (m.Name, Tags: p))).ToList();
        Assert.Contains(points, p => p.Name == "ketenmesh.rpc.server.calls"
            && p.Tags["rpc.method"] == "/chain.signals.v1.SignalIntake/SubmitSignal" && p.Tags["rpc.grpc.status_code"] == "0");
        Assert.Contains(points, p => p.Name == "ketenmesh.gateway.decisions"
            && p.Tags["partner"] == "police" && p.Tags["purpose"] == "signalling" && p.Tags["outcome"] == "allowed");
        Assert.Contains(points, p => p.Name == "ketenmesh.outbox.lag" && p.Tags["messaging.message.type"] == "chain.events.v1.SignalReceived");
        Assert.Contains(points, p => p.Name == "ketenmesh.consumer.lag" && p.Tags["messaging.message.type"] == "RiskAssessed");
    }

    private static IEnumerable<Dictionary<string, string?>> Points(Metric metric)
    {
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            var tags = new Dictionary<string, string?>();
            foreach (var tag in point.Tags)
            {
                tags[tag.Key] = tag.Value?.ToString();
            }

            yield return tags;
        }
    }

    private List<Activity> Spans()
    {
        lock (_spans)
        {
            return [.. _spans];
        }
    }

    private static string Describe(IEnumerable<Activity> spans) => string.Join("\n", spans.Take(60).Select(s =>
        $"{s.TraceId} {s.Source.Name} {s.Kind} {s.DisplayName} parent={s.ParentSpanId} remote={s.HasRemoteParent} " +
        string.Join(" ", s.TagObjects.Where(t => t.Key is "server.port" or "url.path" or "messaging.destination.name").Select(t => $"{t.Key}={t.Value}"))));

    private static string? Tag(Activity span, string name) => span.GetTagItem(name)?.ToString();

    private static int? Port(Activity span) => span.Kind == ActivityKind.Server && int.TryParse(Tag(span, "server.port"), out var port) ? port : null;

    private static bool Mentions(Activity span, string queue) =>
        span.TagObjects.Any(t => t.Value?.ToString()?.Contains(queue, StringComparison.Ordinal) == true) || span.DisplayName.Contains(queue, StringComparison.Ordinal);

    /// <summary>The gateway follows the policy service it starts beside; its first call may come before the first policy.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException) when (attempt < 50)
            {
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_mesh is not null)
        {
            await _mesh.App.StopAsync();
            await _mesh.App.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
