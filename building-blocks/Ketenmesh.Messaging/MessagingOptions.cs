namespace Ketenmesh.Messaging;

public enum MessagingTransport
{
    /// <summary>Embedded profile: one bus inside the process; every component in it shares that bus.</summary>
    InMemory,

    /// <summary>Real profile: a RabbitMQ broker, quorum queues, dead-lettering.</summary>
    RabbitMq,
}

/// <summary>The <c>Messaging</c> configuration section.</summary>
public sealed class MessagingOptions
{
    public const string SectionName = "Messaging";

    public MessagingTransport Transport { get; set; } = MessagingTransport.InMemory;

    public RabbitMqOptions RabbitMq { get; set; } = new();

    /// <summary>Redelivery attempts in process before a message goes to the error queue. Empty: none.</summary>
    public TimeSpan[]? RetryIntervals { get; set; }

    /// <summary>
    /// Broker-side cap on deliveries of one message (quorum queue <c>x-delivery-limit</c>); catches the
    /// message that crashes the consumer process, which in-process retries never see.
    /// </summary>
    public int DeliveryLimit { get; set; } = 20;

    public int PrefetchCount { get; set; } = 32;

    /// <summary>
    /// How long the RabbitMQ bus may stay unhealthy before the process exits with code 75 for its
    /// supervisor to restart it (see <see cref="Recovery.BusWatchdog"/>). Reconnects normally take seconds.
    /// </summary>
    public TimeSpan RecoveryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public OutboxOptions Outbox { get; set; } = new();

    public InboxOptions Inbox { get; set; } = new();

    internal TimeSpan[] EffectiveRetryIntervals =>
        RetryIntervals ?? [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)];
}

public sealed class RabbitMqOptions
{
    public string Host { get; set; } = "localhost";

    public ushort Port { get; set; } = 5672;

    public string VirtualHost { get; set; } = "/";

    public string Username { get; set; } = "guest";

    public string Password { get; set; } = "guest";

    /// <summary>Shown by the broker for this process's connection, so operators see which service holds it.</summary>
    public string? ConnectionName { get; set; }
}

public sealed class OutboxOptions
{
    /// <summary>Rows read and marked per database round trip.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// Safety net for rows committed by another process or while a wake-up was missed; rows
    /// committed in this process are dispatched right after commit.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one publish may wait for the broker's confirm before the batch backs off.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Upper bound of the exponential back-off while the broker is unreachable.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Dispatched rows are kept this long (for investigation), then deleted.</summary>
    public TimeSpan RetentionPeriod { get; set; } = TimeSpan.FromDays(1);
}

public sealed class InboxOptions
{
    /// <summary>How long the proof that a message was applied is kept; a copy arriving later would apply again.</summary>
    public TimeSpan RetentionPeriod { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(10);
}
