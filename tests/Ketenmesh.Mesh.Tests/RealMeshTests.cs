using System.Text.Json;
using Chain.Common.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Mesh.Demo;
using Ketenmesh.Messaging.Topology;
using Ketenmesh.Security;
using Ketenmesh.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Ketenmesh.Mesh.Tests;

/// <summary>Every component as its own process with the environment of deploy/components.ini, as `./mesh up --real` starts them.</summary>
public sealed class RealMeshFixture : IAsyncLifetime
{
    public RealMesh Mesh { get; private set; } = null!;

    public async Task InitializeAsync() => Mesh = await RealMesh.StartAsync();

    public async Task DisposeAsync() => await Mesh.DisposeAsync();
}

/// <summary>The chain as it is deployed: separate processes on PostgreSQL and RabbitMQ, partners through the gateway.</summary>
public sealed class RealMeshTests(RealMeshFixture fixture) : IClassFixture<RealMeshFixture>
{

    private RealMesh Mesh => fixture.Mesh;

    [Fact]
    public async Task An_officer_signs_in_to_the_console_with_the_password_made_at_first_run_and_sees_the_grants()
    {
        // What a browser does, with cookies and redirects: the console sends it to sign in at the identity (through
        // the console), the login form takes the officer's password from the data directory, the code comes back.
        var console = Mesh.Address("console");
        using var browser = new HttpClient(new SocketsHttpHandler { CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = console };
        var login = await browser.GetAsync("/");
        var page = await login.Content.ReadAsStringAsync();
        Assert.Equal("/account/login", login.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(console.Authority, login.RequestMessage.RequestUri.Authority);
        var hidden = System.Text.RegularExpressions.Regex.Matches(page, "<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")
            .ToDictionary(m => m.Groups[1].Value, m => System.Net.WebUtility.HtmlDecode(m.Groups[2].Value));
        Assert.Contains("returnUrl", hidden.Keys);
        var password = File.ReadAllText(Ketenmesh.Identity.Domain.OfficerPasswords.PathOf(Mesh.DataDirectory, "privacy-officer-1")).Trim();

        using var signedIn = await browser.PostAsync("/account/login", new FormUrlEncodedContent(
            hidden.Append(new("officer", "privacy-officer-1")).Append(new("password", password))));

        var grants = await signedIn.Content.ReadAsStringAsync();
        Assert.True(signedIn.IsSuccessStatusCode, $"{signedIn.StatusCode} at {signedIn.RequestMessage!.RequestUri}");
        Assert.Equal("/", signedIn.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("privacy-officer-1", grants);
        // The grants the policy service holds, read with the officer's own token.
        Assert.Contains("police-criminal-investigation", grants);
    }

    [Fact]
    public async Task Every_queue_is_consumed_by_one_component_and_every_event_reaches_every_component_that_consumes_it()
    {
        var vhost = Mesh.Profile.Broker.Name;
        // Which connection (by the name a component gives it) each consumer's channel belongs to.
        var connections = Json(await Rabbitmqctl.RunAsync("-q", "list_connections", "-p", vhost, "--formatter", "json", "pid", "client_properties"))
            .ToDictionary(c => c.GetProperty("pid").GetString()!, c => ConnectionName(c.GetProperty("client_properties")));
        var channels = Json(await Rabbitmqctl.RunAsync("-q", "list_channels", "-p", vhost, "--formatter", "json", "pid", "connection"))
            .ToDictionary(c => c.GetProperty("pid").GetString()!, c => c.GetProperty("connection").GetString()!);
        var consumers = Json(await Rabbitmqctl.RunAsync("-q", "list_consumers", "-p", vhost, "--formatter", "json", "queue_name", "channel_pid"))
            .Select(c => (Queue: c.GetProperty("queue_name").GetString()!, Component: connections[channels[c.GetProperty("channel_pid").GetString()!]]))
            .ToList();
        var bindings = Json(await Rabbitmqctl.RunAsync("-q", "list_bindings", "-p", vhost, "--formatter", "json", "source_name", "destination_name", "destination_kind"))
            .Select(b => (Source: b.GetProperty("source_name").GetString()!, Destination: b.GetProperty("destination_name").GetString()!, ToQueue: b.GetProperty("destination_kind").GetString() == "queue"))
            .ToList();

        Assert.NotEmpty(consumers);
        foreach (var queue in consumers.GroupBy(c => c.Queue))
        {
            var components = queue.Select(c => c.Component).Distinct().ToList();
            Assert.True(components.Count == 1, $"{queue.Key} is consumed by {string.Join(" and ", components)}");
            Assert.StartsWith(components[0] + ".", queue.Key);
        }

        var expected = ExpectedConsumers();
        Assert.NotEmpty(expected);
        foreach (var (component, queue, @event) in expected)
        {
            Assert.Contains((queue, component), consumers.Select(c => (c.Queue, c.Component)));
            Assert.True(Reachable(bindings, @event).Contains(queue), $"{@event} does not reach {component}'s queue {queue}");
        }

        // The two events two components consume: each has a queue per component, and both hear of it.
        Assert.Equal(["registry.signal-received", "risk.signal-received"], Reachable(bindings, Chain.Events.V1.SignalReceived.Descriptor.FullName).Order());
        Assert.Equal(["registry.risk-assessed", "signals.risk-assessed"], Reachable(bindings, Chain.Events.V1.RiskAssessed.Descriptor.FullName).Order());
    }

    [Fact]
    public async Task Fifty_signals_from_two_partners_through_the_gateway_are_all_registered_linked_per_person_and_watched()
    {
        const int Signals = 50;
        const int People = 40; // signals 40..49 are about people 0..9 again, each from the other partner
        using var http = AuthorityHttp.For(Mesh.Address("identity"));
        using var channel = GrpcChannel.ForAddress(Mesh.Address("gateway"));
        var gateway = channel;
        var partners = new Dictionary<string, PartnerSession>
        {
            ["police"] = await PartnerSession.SignInAsync(http, Mesh.Address("identity"), Mesh.DataDirectory, "police"),
            ["inspectorate"] = await PartnerSession.SignInAsync(http, Mesh.Address("identity"), Mesh.DataDirectory, "inspectorate"),
        };

        // The gateway may still be reading the first published policy: the first list says when it is.
        foreach (var partner in partners.Values)
        {
            await Eventually.SucceedsAsync(() => gateway.Intake().ListMySignalsAsync(new ListMySignalsRequest(), partner.For("signalling")).ResponseAsync);
        }

        var watches = partners.ToDictionary(p => p.Key, p => new WatchRecorder(cancel => gateway.Intake().WatchMySignals(new WatchMySignalsRequest(), p.Value.For("signalling").WithCancellationToken(cancel))));
        foreach (var watch in watches.Values)
        {
            await watch.LiveAsync();
        }

        var submitted = new List<(string Partner, int Person, Signal Signal)>();
        for (var i = 0; i < Signals; i++)
        {
            var partner = i % 2 == 0 ? "police" : "inspectorate";
            var person = i % People;
            var request = ChainSignals.LabourInspection($"real-mesh-{i}", person + 1);
            request.Observation.Channel = partner == "police" ? SignalChannel.Police : SignalChannel.Inspectorate;
            var accepted = await gateway.Intake().SubmitSignalAsync(request, partners[partner].For("signalling"));
            submitted.Add((partner, person, accepted.Signal));
        }

        // Each signaller's own list says REGISTERED for every signal it sent.
        var registered = new Dictionary<string, Signal>();
        await Eventually.SucceedsAsync(async () =>
        {
            foreach (var (name, session) in partners)
            {
                var mine = await gateway.Intake().ListMySignalsAsync(new ListMySignalsRequest { PageSize = 100 }, session.For("signalling"));
                foreach (var signal in mine.Signals)
                {
                    registered[signal.SignalId] = signal;
                }
            }

            var waiting = submitted.Count(s => !registered.TryGetValue(s.Signal.SignalId, out var r) || r.Status != SignalStatus.Registered);
            Assert.True(waiting == 0, $"{waiting} of {Signals} signals are not registered yet");
        }, TimeSpan.FromSeconds(90));

        // One registration per person: a second signal about a person is linked to the first one's registration.
        foreach (var person in submitted.GroupBy(s => s.Person))
        {
            var registrations = person.Select(s => registered[s.Signal.SignalId].Outcome.RegistrationId).Distinct().ToList();
            Assert.True(registrations.Count == 1 && registrations[0].Length > 0, $"person {person.Key} has registrations {string.Join(", ", registrations)}");
        }

        Assert.Equal(People, submitted.Select(s => registered[s.Signal.SignalId].Outcome.RegistrationId).Distinct().Count());

        // Each watch heard every change of its own signals, from RECEIVED up to REGISTERED with no change
        // missed or heard twice (each change starts where the one before ended), and nothing of the other
        // partner's. ASSESSED may be skipped: the registration can land before the assessment's write-back.
        foreach (var (name, watch) in watches)
        {
            var own = submitted.Where(s => s.Partner == name).Select(s => s.Signal.SignalId).ToHashSet();
            await Eventually.SucceedsAsync(() =>
            {
                var heard = watch.Changes;
                Assert.All(heard, c => Assert.Contains(c.SignalId, own));
                Assert.All(own, id =>
                {
                    var changes = heard.Where(c => c.SignalId == id).ToList();
                    var chain = string.Join(", ", changes.Select(c => $"{c.PreviousStatus}->{c.NewStatus}"));
                    Assert.True(changes.Count > 0 && changes[0].NewStatus == SignalStatus.Received && changes[^1].NewStatus == SignalStatus.Registered
                        && changes.Skip(1).Select((c, i) => c.PreviousStatus == changes[i].NewStatus).All(linked => linked),
                        $"{id} was heard as {chain}");
                });
                return Task.CompletedTask;
            }, TimeSpan.FromSeconds(30));
            await watch.DisposeAsync();
        }

        // No component logged the SQL it ran (the policy poll alone would be a line a second, and SQL may carry literals).
        Assert.All(Mesh.Processes, process => Assert.DoesNotContain("Executed DbCommand", process.Output));
    }

    /// <summary>Each component's consumers as the code registers them: (component, queue, event's protobuf name).</summary>
    private static List<(string Component, string Queue, string Event)> ExpectedConsumers()
    {
        var expected = new List<(string, string, string)>();
        foreach (var component in MeshComponents.All)
        {
            var services = new ServiceCollection();
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Mesh:DataDirectory"] = Path.GetTempPath() }).Build();
            component.AddServices(services, configuration);
            if (services.FirstOrDefault(d => d.ServiceType == typeof(ConsumerQueues))?.ImplementationInstance is not ConsumerQueues queues)
            {
                continue;
            }

            foreach (var (queue, (owner, consumer)) in queues.Claims)
            {
                var eventType = consumer.GetInterfaces().Single(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>)).GetGenericArguments()[0];
                var descriptor = ((IMessage)Activator.CreateInstance(eventType)!).Descriptor;
                expected.Add((owner, queue, descriptor.FullName));
            }
        }

        return expected;
    }

    /// <summary>The queues a message published to <paramref name="exchange"/> lands in, following exchange-to-exchange bindings.</summary>
    private static List<string> Reachable(List<(string Source, string Destination, bool ToQueue)> bindings, string exchange)
    {
        var queues = new List<string>();
        var seen = new HashSet<string> { exchange };
        var pending = new Queue<string>([exchange]);
        while (pending.TryDequeue(out var source))
        {
            foreach (var binding in bindings.Where(b => b.Source == source))
            {
                if (binding.ToQueue)
                {
                    queues.Add(binding.Destination);
                }
                else if (seen.Add(binding.Destination))
                {
                    pending.Enqueue(binding.Destination);
                }
            }
        }

        return queues.Distinct().ToList();
    }

    private static List<JsonElement> Json(string output) => JsonDocument.Parse(output).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();

    /// <summary>client_properties as rabbitmqctl's JSON gives it: the connection_name the client set, or an object with it.</summary>
    private static string ConnectionName(JsonElement properties)
    {
        if (properties.ValueKind == JsonValueKind.Object)
        {
            return properties.GetProperty("connection_name").GetString()!;
        }

        return properties.EnumerateArray().Where(p => p[0].GetString() == "connection_name").Select(p => p[2].GetString()!).Single();
    }

    /// <summary>A watch through the gateway, recording every change it hears.</summary>
    private sealed class WatchRecorder : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private readonly AsyncServerStreamingCall<WatchMySignalsResponse> _call;
        private readonly List<SignalStatusChange> _changes = [];
        private readonly Task _reading;

        public WatchRecorder(Func<CancellationToken, AsyncServerStreamingCall<WatchMySignalsResponse>> start)
        {
            var call = _call = start(_cancel.Token);
            _reading = Task.Run(async () =>
            {
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                    lock (_changes)
                    {
                        _changes.Add(call.ResponseStream.Current.Change);
                    }
                }
            });
        }

        public List<SignalStatusChange> Changes
        {
            get
            {
                lock (_changes)
                {
                    return [.. _changes];
                }
            }
        }

        /// <summary>The service sends headers once the watch is live: changes after this are heard.</summary>
        public Task LiveAsync() => _call.ResponseHeadersAsync;

        public async ValueTask DisposeAsync()
        {
            await _cancel.CancelAsync();
            try
            {
                await _reading;
            }
            catch (RpcException exception) when (exception.StatusCode == StatusCode.Cancelled)
            {
                // The end of the watch, as intended.
            }

            _call.Dispose();
            _cancel.Dispose();
        }
    }
}
