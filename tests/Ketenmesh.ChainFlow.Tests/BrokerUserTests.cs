using System.Text.Json;
using Chain.Events.V1;
using Chain.Signals.V1;
using Ketenmesh.Registry;
using Ketenmesh.Risk;
using Ketenmesh.Signals;
using Ketenmesh.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Ketenmesh.ChainFlow.Tests;

/// <summary>
/// Each messaging component on RabbitMQ as the user deploy/rabbitmq-users.sh makes for it, with only
/// the permissions of deploy/rabbitmq-permissions.tsv (issue 10, point 3): enough for its own flow,
/// and nothing of another component's.
/// </summary>
public sealed class BrokerUserTests : IAsyncLifetime
{
    private const int AccessRefused = 403;
    private RealProfile _profile = null!;

    public async Task InitializeAsync() => _profile = await RealProfile.CreateAsync();

    public async Task DisposeAsync() => await _profile.DisposeAsync();

    [Fact]
    public async Task Signals_risk_and_registry_each_as_its_own_limited_user_carry_a_signal_until_the_signaller_hears_it_is_registered()
    {
        var signalsSettings = (await _profile.ServiceAsync("signals")).Settings;
        await using var signals = await ComponentHost.StartAsync(new SignalsComponent(), signalsSettings);
        await using var risk = await ComponentHost.StartAsync(new RiskComponent(), (await _profile.ServiceAsync("risk")).Settings);
        await using var registry = await ComponentHost.StartAsync(new RegistryComponent(), (await _profile.ServiceAsync("registry")).Settings);

        // Each holds its connections as its own user, which is no administrator.
        var vhost = _profile.Broker.Name;
        var users = Json(await Rabbitmqctl.RunAsync("-q", "list_connections", "--formatter", "json", "user", "vhost"))
            .Where(c => c.GetProperty("vhost").GetString() == vhost)
            .Select(c => c.GetProperty("user").GetString()!).ToHashSet();
        Assert.Equal(new[] { $"{vhost}-registry", $"{vhost}-risk", $"{vhost}-signals" }, users.Order());
        foreach (var user in users)
        {
            var tags = Json(await Rabbitmqctl.RunAsync("-q", "list_users", "--formatter", "json")).Single(u => u.GetProperty("user").GetString() == user).GetProperty("tags");
            Assert.Equal(0, tags.GetArrayLength());
        }

        // SignalReceived (signals) reaches risk and registry; RiskAssessed (risk) and VictimRegistered (registry) come back to signals.
        var inspectorate = ComponentHost.As("inspectorate");
        var accepted = await signals.Channel.Intake().SubmitSignalAsync(ChainSignals.LabourInspection("limited-users", 1), inspectorate);
        await Eventually.SucceedsAsync(async () =>
        {
            var signal = (await signals.Channel.Intake().GetSignalAsync(new GetSignalRequest { SignalId = accepted.Signal.SignalId }, inspectorate)).Signal;
            Assert.Equal(SignalStatus.Registered, signal.Status);
        }, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_components_user_is_refused_another_components_queue_and_the_exchange_of_an_event_it_does_not_publish()
    {
        // Signals and risk declare their topology (risk's queue, the RiskAssessed exchange signals binds behind).
        var signalsSettings = (await _profile.ServiceAsync("signals")).Settings;
        var riskSettings = (await _profile.ServiceAsync("risk")).Settings;
        await using (await ComponentHost.StartAsync(new SignalsComponent(), signalsSettings))
        await using (await ComponentHost.StartAsync(new RiskComponent(), riskSettings))
        {
        }

        await using var asSignals = await ConnectAsync(signalsSettings);
        await using var asRisk = await ConnectAsync(riskSettings);

        // What it may: signals publishes SignalReceived and reads its own queue (so a refusal below is the permission, not the login).
        Assert.Null(await RefusalAsync(asSignals, channel => channel.BasicPublishAsync(SignalReceived.Descriptor.FullName, "", new ReadOnlyMemory<byte>([1])).AsTask()));
        Assert.Null(await RefusalAsync(asSignals, channel => channel.BasicGetAsync("signals.risk-assessed", autoAck: false)));

        // What it may not: read risk's queue, forge risk's event, touch risk's queue; nor may risk forge the event it consumes.
        Assert.Equal(AccessRefused, await RefusalAsync(asSignals, channel => channel.BasicConsumeAsync("risk.signal-received", autoAck: false, new NoConsumer(channel))));
        Assert.Equal(AccessRefused, await RefusalAsync(asSignals, channel => channel.BasicGetAsync("risk.signal-received", autoAck: false)));
        Assert.Equal(AccessRefused, await RefusalAsync(asSignals, channel => channel.BasicPublishAsync(RiskAssessed.Descriptor.FullName, "", new ReadOnlyMemory<byte>([1])).AsTask()));
        Assert.Equal(AccessRefused, await RefusalAsync(asSignals, channel => channel.QueueDeleteAsync("risk.signal-received")));
        Assert.Equal(AccessRefused, await RefusalAsync(asSignals, channel => channel.QueueDeclareAsync("signals-made-this", durable: false, exclusive: false, autoDelete: true)));
        Assert.Equal(AccessRefused, await RefusalAsync(asRisk, channel => channel.BasicPublishAsync(SignalReceived.Descriptor.FullName, "", new ReadOnlyMemory<byte>([1])).AsTask()));
        Assert.Equal(AccessRefused, await RefusalAsync(asRisk, channel => channel.BasicGetAsync("signals.risk-assessed", autoAck: false)));
    }

    /// <summary>The reply code the broker closed the channel with for <paramref name="action"/>; null when it was allowed.</summary>
    private static async Task<int?> RefusalAsync(IConnection connection, Func<IChannel, Task> action)
    {
        // Confirms tracked: a publish waits for the broker's answer, so an allowed one returns and a refused one throws.
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        try
        {
            await action(channel);
        }
        catch (Exception exception) when (exception is OperationInterruptedException or AlreadyClosedException or PublishException)
        {
            return channel.CloseReason?.ReplyCode ?? throw new Xunit.Sdk.XunitException($"failed without the broker closing the channel: {exception}");
        }

        return channel.IsOpen ? null : channel.CloseReason?.ReplyCode;
    }

    private static Task<IConnection> ConnectAsync(Dictionary<string, string?> settings) => new ConnectionFactory
    {
        HostName = settings["Messaging:RabbitMq:Host"]!,
        Port = int.Parse(settings["Messaging:RabbitMq:Port"]!),
        VirtualHost = settings["Messaging:RabbitMq:VirtualHost"]!,
        UserName = settings["Messaging:RabbitMq:Username"]!,
        Password = settings["Messaging:RabbitMq:Password"]!,
        ClientProvidedName = "broker user test",
    }.CreateConnectionAsync();

    private static List<JsonElement> Json(string output) => JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();

    private sealed class NoConsumer(IChannel channel) : AsyncDefaultBasicConsumer(channel);
}
