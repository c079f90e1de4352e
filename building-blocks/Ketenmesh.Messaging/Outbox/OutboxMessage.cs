namespace Ketenmesh.Messaging.Outbox;

/// <summary>An event written with the state change that caused it, waiting to be published.</summary>
public sealed class OutboxMessage
{
    /// <summary>Commit-ordered position; the dispatcher publishes in this order.</summary>
    public long Sequence { get; init; }

    /// <summary>Becomes the MassTransit MessageId, so a re-publish after a crash is recognisable downstream.</summary>
    public Guid MessageId { get; init; }

    /// <summary>Protobuf full name of the event.</summary>
    public required string MessageType { get; init; }

    public required byte[] Payload { get; init; }

    /// <summary>JSON object of header name to value (traceparent, CorrelationId); null when none.</summary>
    public string? Headers { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime? DispatchedAt { get; set; }
}
