using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Ketenmesh.Messaging.Recovery;

/// <summary>
/// Where an event goes that no queue is bound for yet (its consumers never started): every event
/// exchange names <see cref="EventTopology.UnroutedEvents"/> as its alternate exchange, and this declares that exchange and a
/// quorum queue behind it. Without it RabbitMQ confirms and drops such an event, and the outbox,
/// seeing the confirm, would consider it delivered.
/// </summary>
/// <summary>Names other RabbitMQ clients need to declare the chain's entities the way the services do.</summary>
public static class EventTopology
{
    /// <summary>Alternate exchange of every event exchange, with a quorum queue of the same name behind it.</summary>
    public const string UnroutedEvents = "ketenmesh.unrouted";

    /// <summary>The RabbitMQ exchange argument that names where unroutable messages go.</summary>
    public const string AlternateExchangeArgument = "alternate-exchange";

    /// <summary>The arguments every event exchange is declared with.</summary>
    public static IDictionary<string, object?> EventExchangeArguments => new Dictionary<string, object?> { [AlternateExchangeArgument] = UnroutedEvents };
}

sealed class UnroutedEvents(IOptions<MessagingOptions> options, ILogger<UnroutedEvents> logger) : IHostedService
{
    const string Name = EventTopology.UnroutedEvents;

    /// <summary>Runs before the bus starts, so no event is published ahead of its safety net.</summary>
    public async Task StartAsync(CancellationToken stoppingToken)
    {
        var rabbit = options.Value.RabbitMq;
        var factory = new ConnectionFactory
        {
            HostName = rabbit.Host,
            Port = rabbit.Port,
            VirtualHost = rabbit.VirtualHost,
            UserName = rabbit.Username,
            Password = rabbit.Password,
            ClientProvidedName = $"{rabbit.ConnectionName ?? "ketenmesh"} (topology)",
        };
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(stoppingToken);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                await channel.ExchangeDeclareAsync(Name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: stoppingToken);
                await channel.QueueDeclareAsync(Name, durable: true, exclusive: false, autoDelete: false,
                    arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: stoppingToken);
                await channel.QueueBindAsync(Name, Name, routingKey: "", cancellationToken: stoppingToken);
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Declaring {Exchange} failed (attempt {Attempt}); retrying", Name, attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 10)), stoppingToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
