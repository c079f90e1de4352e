using Chain.Events.V1;
using Ketenmesh.Messaging.Recovery;
using Ketenmesh.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ketenmesh.Signals.Tests;

/// <summary>
/// A downstream listener that is not MassTransit: a plain AMQP consumer on its own connection,
/// reading SignalReceived from the exchange named after the protobuf type. Killing the service's
/// connection leaves it untouched, so what it counts is what the service really published.
/// </summary>
public sealed class AmqpListener : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private AmqpListener(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public static async Task<AmqpListener> StartAsync(TestVirtualHost broker, ReceivedEvents events)
    {
        var connection = await broker.ConnectAsync();
        var channel = await connection.CreateChannelAsync();
        var exchange = SignalReceived.Descriptor.FullName;
        // The same declaration the services make for an event: fanout, durable, with the unrouted-events safety net.
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, arguments: EventTopology.EventExchangeArguments);
        var queue = await channel.QueueDeclareAsync();
        await channel.QueueBindAsync(queue.QueueName, exchange, routingKey: "");
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            var messageId = Guid.TryParse(delivery.BasicProperties.MessageId, out var id) ? id : (Guid?)null;
            events.SignalsReceived.Enqueue((messageId, SignalReceived.Parser.ParseFrom(delivery.Body.Span)));
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return new AmqpListener(connection, channel);
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
