using System.Text;
using System.Text.Json;
using Ketenmesh.Messaging.Protobuf;
using Ketenmesh.Messaging.Recovery;
using Ketenmesh.Messaging.Tests.Chain;
using Ketenmesh.Messaging.Tests.Events;
using Ketenmesh.Messaging.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Ketenmesh.Messaging.Tests;

/// <summary>What the messaging block leaves on a real broker: queue kinds, dead-lettering and the bytes of an event.</summary>
public sealed class RabbitMqWireTests(ITestOutputHelper output) : RealProfileFixture
{
    const string RegistrationQueue = "registry.signal-recorded";

    [Fact]
    public async Task Consumer_queues_are_quorum_queues_that_dead_letter_into_their_error_queue()
    {
        var registry = await StartRegistryAsync();
        try
        {
            var queues = await QueuesAsync();
            var queue = Assert.Single(queues, q => q.Name == RegistrationQueue);
            Assert.Equal("quorum", queue.Type);
            Assert.Equal($"{RegistrationQueue}_error", queue.Arguments["x-dead-letter-exchange"].GetString());
            Assert.True(queue.Arguments["x-delivery-limit"].GetInt32() > 0);
            var error = Assert.Single(queues, q => q.Name == $"{RegistrationQueue}_error");
            Assert.Equal("quorum", error.Type);
        }
        finally
        {
            await registry.ShutdownAsync();
        }
    }

    [Fact]
    public async Task An_event_the_consumer_cannot_apply_lands_in_the_error_queue_as_the_original_protobuf_bytes()
    {
        var registry = await StartRegistryAsync();
        var intake = await TestHosts.StartAsync(output, "intake",
            IntakeSettings(), Components.Intake);
        try
        {
            await IntakeDesk.RecordAsync(intake.Services, "sig-poison", 1, SignalRegistration.PoisonPartner);

            await using var connection = await Broker.ConnectAsync();
            await using var channel = await connection.CreateChannelAsync();
            BasicGetResult? dead = null;
            var arrived = await TestHosts.WaitUntilAsync(
                async () => (dead ??= await channel.BasicGetAsync($"{RegistrationQueue}_error", autoAck: true)) is not null,
                TimeSpan.FromSeconds(30));

            Assert.True(arrived, "the poison event never reached the error queue");
            Assert.Equal(ProtobufContent.MediaType, dead!.BasicProperties.ContentType);
            var messageType = Assert.IsType<byte[]>(dead.BasicProperties.Headers![ProtobufContent.MessageTypeHeader]);
            Assert.Equal(SignalRecorded.Descriptor.FullName, Encoding.UTF8.GetString(messageType));
            var @event = SignalRecorded.Parser.ParseFrom(dead.Body.Span);
            Assert.Equal("sig-poison", @event.SignalId);
            Assert.Equal(SignalRegistration.PoisonPartner, @event.Partner);
            Assert.Equal(0, await EmbeddedProfileTests.CountAsync(registry.Services, Registration.Victim));
        }
        finally
        {
            await intake.ShutdownAsync();
            await registry.ShutdownAsync();
        }
    }

    [Fact]
    public async Task An_event_no_consumer_has_subscribed_to_yet_is_kept_not_dropped()
    {
        // Only the publisher runs: no queue is bound to the event's exchange.
        var intake = await TestHosts.StartAsync(output, "intake", IntakeSettings(), Components.Intake);
        try
        {
            await IntakeDesk.RecordAsync(intake.Services, "sig-before-any-consumer", 1);

            await using var connection = await Broker.ConnectAsync();
            await using var channel = await connection.CreateChannelAsync();
            BasicGetResult? kept = null;
            var arrived = await TestHosts.WaitUntilAsync(
                async () => (kept ??= await channel.BasicGetAsync(EventTopology.UnroutedEvents, autoAck: true)) is not null,
                TimeSpan.FromSeconds(30));

            Assert.True(arrived, "the event was dropped by the broker");
            Assert.Equal("sig-before-any-consumer", SignalRecorded.Parser.ParseFrom(kept!.Body.Span).SignalId);
        }
        finally
        {
            await intake.ShutdownAsync();
        }
    }

    Task<Microsoft.Extensions.Hosting.IHost> StartRegistryAsync() =>
        TestHosts.StartAsync(output, "registry", RegistrySettings(new Dictionary<string, string?> { ["Messaging:RetryIntervals:0"] = "00:00:00.010" }), Components.Registry);

    async Task<List<QueueInfo>> QueuesAsync()
    {
        var json = await Rabbitmqctl.RunAsync("-q", "list_queues", "-p", Broker.Name, "name", "type", "arguments", "--formatter", "json");
        // Each queue: {"name":…,"type":…,"arguments":[[key, AMQP type, value], …]}.
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(queue => new QueueInfo(
            queue.GetProperty("name").GetString()!,
            queue.GetProperty("type").GetString()!,
            queue.GetProperty("arguments").EnumerateArray().ToDictionary(a => a[0].GetString()!, a => a[2].Clone()))).ToList();
    }

    sealed record QueueInfo(string Name, string Type, Dictionary<string, JsonElement> Arguments);
}
