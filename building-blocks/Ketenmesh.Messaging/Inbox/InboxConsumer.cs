using Google.Protobuf;
using Ketenmesh.Persistence;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ketenmesh.Messaging.Inbox;

/// <summary>
/// Base for consumers whose effect must happen once per event even though the broker delivers at
/// least once. The inbox row and the handler's changes commit in one transaction: a redelivery,
/// or a second copy published after an outbox crash, finds the row and is acknowledged unapplied.
/// </summary>
public abstract class InboxConsumer<TContext, TEvent>(TContext context, ILogger? logger = null) : IConsumer<TEvent>
    where TContext : DbContext
    where TEvent : class, IMessage<TEvent>
{
    readonly ILogger _logger = logger ?? NullLogger.Instance;

    protected TContext Context => context;

    /// <summary>The consumer's log: message ids and types only, never an event's content.</summary>
    protected ILogger Logger => _logger;

    /// <summary>Stored in the inbox key; keep it stable across renames or old messages apply again.</summary>
    protected virtual string ConsumerName => GetType().Name;

    /// <summary>The state change. No SaveChanges needed: the base saves and commits after it returns.</summary>
    protected abstract Task ApplyAsync(TEvent @event, ConsumeContext<TEvent> consumeContext);

    /// <summary>Called once the change is committed: the place for in-process notifications that must not run ahead of the data.</summary>
    protected virtual Task OnAppliedAsync(ConsumeContext<TEvent> consumeContext) => Task.CompletedTask;

    /// <summary>Called when a message was recognised as already applied.</summary>
    protected virtual Task OnDuplicateAsync(ConsumeContext<TEvent> consumeContext) => Task.CompletedTask;

    public async Task Consume(ConsumeContext<TEvent> consumeContext)
    {
        var messageId = consumeContext.MessageId
            ?? throw new InvalidOperationException($"{typeof(TEvent).Name} arrived without a MessageId and cannot be deduplicated.");
        using var trace = MessagingTracing.ContinueReceived(consumeContext);

        bool applied;
        try
        {
            applied = await context.Database.CreateExecutionStrategy().ExecuteAsync(
                consumeContext,
                (_, message, cancellationToken) => ApplyOnceAsync(messageId, message, cancellationToken),
                verifySucceeded: null,
                consumeContext.CancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent copy committed first: PostgreSQL reports it as a key violation on the inbox row.
            if (!await IsRecordedAsync(messageId, consumeContext.CancellationToken))
            {
                throw;
            }

            applied = false;
        }

        if (!applied)
        {
            _logger.LogInformation("{Consumer} skipped {MessageType} {MessageId}: already applied", ConsumerName, typeof(TEvent).Name, messageId);
            await OnDuplicateAsync(consumeContext);
            return;
        }

        if (consumeContext.SentTime is { } sent)
        {
            MessagingTracing.ConsumerLag.Record((DateTime.UtcNow - sent).TotalSeconds,
                new KeyValuePair<string, object?>("messaging.consumer", ConsumerName),
                new KeyValuePair<string, object?>("messaging.message.type", typeof(TEvent).Name));
        }

        await OnAppliedAsync(consumeContext);
    }

    async Task<bool> ApplyOnceAsync(Guid messageId, ConsumeContext<TEvent> consumeContext, CancellationToken cancellationToken)
    {
        // A retry of this message reuses the scope's context: start from what the database says.
        context.ChangeTracker.Clear();
        await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
        if (await IsRecordedAsync(messageId, cancellationToken))
        {
            return false;
        }

        await ApplyAsync(consumeContext.Message, consumeContext);
        context.Set<InboxMessage>().Add(new InboxMessage { MessageId = messageId, Consumer = ConsumerName, ReceivedAt = DateTime.UtcNow });
        await context.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    async Task<bool> IsRecordedAsync(Guid messageId, CancellationToken cancellationToken)
    {
        var consumer = ConsumerName;
        context.ChangeTracker.Clear();
        return await context.Set<InboxMessage>().AnyAsync(m => m.MessageId == messageId && m.Consumer == consumer, cancellationToken);
    }
}
