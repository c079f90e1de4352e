using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf;
using Ketenmesh.Messaging.Protobuf;
using Ketenmesh.Messaging.Topology;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Messaging.Outbox;

/// <summary>
/// Where domain code puts the events it raises. Adding only stages a row in the same DbContext, so
/// the service's SaveChangesAsync commits the state change and its events together, or neither.
/// It takes only the events its component declared it publishes: its broker user may write to no
/// other exchange, so any other event would block the outbox at the broker instead of failing here.
/// </summary>
public sealed class EventOutbox<TContext>(TContext context, EventRegistry registry, Publications publications, OutboxPublisher<TContext> publisher)
    where TContext : DbContext
{
    /// <returns>The message id the event will carry on the bus.</returns>
    public Guid Add(IMessage @event, Guid? correlationId = null)
    {
        var descriptor = registry.Require(@event);
        if (!publications.Publishes(publisher.Component, descriptor.FullName))
        {
            throw new InvalidOperationException(
                $"Component '{publisher.Component}' does not publish {descriptor.FullName}; declare it with AddChainMessaging(...).Publishes(...).");
        }

        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Activity.Current is { } activity)
        {
            headers[MessagingTracing.TraceParentHeader] = activity.Id!;
            if (!string.IsNullOrEmpty(activity.TraceStateString))
            {
                headers[MessagingTracing.TraceStateHeader] = activity.TraceStateString;
            }
        }

        if (correlationId is { } correlation)
        {
            headers[MessageHeaders.CorrelationId] = correlation.ToString();
        }

        // Time-ordered ids keep the unique index on message_id append-mostly.
        var messageId = NewId.NextGuid();
        context.Set<OutboxMessage>().Add(new OutboxMessage
        {
            MessageId = messageId,
            MessageType = descriptor.FullName,
            Payload = @event.ToByteArray(),
            Headers = headers.Count == 0 ? null : JsonSerializer.Serialize(headers),
            CreatedAt = DateTime.UtcNow,
        });
        return messageId;
    }
}

/// <summary>The component whose outbox <typeparamref name="TContext"/> holds.</summary>
public sealed record OutboxPublisher<TContext>(string Component)
    where TContext : DbContext;
