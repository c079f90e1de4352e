namespace Ketenmesh.Messaging.Inbox;

/// <summary>Proof that a consumer applied a message; its presence turns a redelivery into a no-op.</summary>
public sealed class InboxMessage
{
    public Guid MessageId { get; init; }

    /// <summary>Part of the key: two consumers in one service each apply the same event once.</summary>
    public required string Consumer { get; init; }

    public DateTime ReceivedAt { get; init; }
}
