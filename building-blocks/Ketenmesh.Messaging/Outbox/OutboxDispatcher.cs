using System.Runtime.ExceptionServices;
using System.Text.Json;
using Ketenmesh.Messaging.Protobuf;
using Ketenmesh.Messaging.Recovery;
using Ketenmesh.Persistence;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Messaging.Outbox;

/// <summary>
/// Publishes committed outbox rows in sequence order and marks them dispatched once the broker has
/// confirmed them. A row is marked only after its confirm, so a crash or outage can repeat a
/// publish (same MessageId, deduplicated by the inbox) but never drop one.
/// </summary>
sealed class OutboxDispatcher<TContext>(
    IServiceScopeFactory scopes,
    IBus bus,
    EventRegistry registry,
    OutboxSignal<TContext> signal,
    PublishHealth health,
    IOptions<MessagingOptions> options,
    ILogger<OutboxDispatcher<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    // ASCII "KETENOBX". One dispatcher per database at a time on PostgreSQL keeps the publish order
    // when several instances of a service share it; the others wait and then find nothing left.
    const long PostgresLockKey = 0x4B4554454E4F4258;

    static readonly TimeSpan CleanupInterval = TimeSpan.FromMinutes(10);

    readonly OutboxOptions _options = options.Value.Outbox;
    DateTime _nextCleanup = DateTime.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await DispatchBatchAsync(stoppingToken))
                {
                    // A full batch: there may be more waiting, go on without sleeping.
                }

                failures = 0;
                health.Succeeded();
                await DeleteExpiredAsync(stoppingToken);
                await signal.WaitAsync(_options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                failures++;
                health.Failed();
                var delay = RetryDelay(failures);
                logger.LogWarning(exception, "Outbox dispatch for {Context} failed (attempt {Attempt}); retrying in {Delay}", typeof(TContext).Name, failures, delay);
                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <returns>True when the batch was full, i.e. more rows may be waiting.</returns>
    async Task<bool> DispatchBatchAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        var outbox = context.Set<OutboxMessage>();

        // SQLite: no transaction around publishing, it would hold the file's write lock for the
        // whole batch; one process per file means no competing dispatcher anyway.
        var postgres = context.Database.GetChainProvider() == DatabaseProvider.Postgres;
        await using var transaction = postgres ? await context.Database.BeginTransactionAsync(stoppingToken) : null;
        if (postgres)
        {
            await context.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({PostgresLockKey})", stoppingToken);
        }

        var batch = await outbox.AsNoTracking()
            .Where(m => m.DispatchedAt == null)
            .OrderBy(m => m.Sequence)
            .Take(_options.BatchSize)
            .ToListAsync(stoppingToken);

        var published = new List<long>(batch.Count);
        ExceptionDispatchInfo? failure = null;
        foreach (var message in batch)
        {
            try
            {
                await PublishAsync(message, stoppingToken);
                published.Add(message.Sequence);
            }
            catch (Exception exception)
            {
                // Stop at the first failure so later rows never overtake it.
                failure = ExceptionDispatchInfo.Capture(exception);
                break;
            }
        }

        if (published.Count > 0)
        {
            // Not cancellable: these are confirmed by the broker, forgetting that only causes repeats.
            var dispatchedAt = DateTime.UtcNow;
            await outbox.Where(m => published.Contains(m.Sequence))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.DispatchedAt, dispatchedAt), CancellationToken.None);
            // The published rows are the batch's first ones: dispatch stops at the first failure.
            foreach (var message in batch.Take(published.Count))
            {
                MessagingTracing.OutboxLag.Record((dispatchedAt - DateTime.SpecifyKind(message.CreatedAt, DateTimeKind.Utc)).TotalSeconds,
                    new KeyValuePair<string, object?>("messaging.message.type", message.MessageType));
            }
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(CancellationToken.None);
        }

        failure?.Throw();
        return batch.Count == _options.BatchSize;
    }

    async Task PublishAsync(OutboxMessage message, CancellationToken stoppingToken)
    {
        if (!registry.TryGet(message.MessageType, out var descriptor))
        {
            // Blocks the outbox on purpose: skipping would lose the event, and this only happens
            // when a deployment removed an event type that still has rows waiting.
            throw new InvalidOperationException($"Outbox row {message.Sequence} holds event type {message.MessageType}, which is not registered.");
        }

        var @event = descriptor.Parser.ParseFrom(message.Payload);
        var headers = message.Headers is null
            ? []
            : JsonSerializer.Deserialize<Dictionary<string, string>>(message.Headers) ?? [];
        headers.TryGetValue(MessagingTracing.TraceParentHeader, out var traceParent);
        headers.TryGetValue(MessagingTracing.TraceStateHeader, out var traceState);
        using var activity = MessagingTracing.StartDispatch(message.MessageType, traceParent, traceState);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(_options.PublishTimeout);
        await bus.Publish(@event, descriptor.ClrType, Pipe.Execute<PublishContext>(publish =>
        {
            publish.MessageId = message.MessageId;
            foreach (var (name, value) in headers)
            {
                if (name == MessageHeaders.CorrelationId && Guid.TryParse(value, out var correlationId))
                {
                    publish.CorrelationId = correlationId;
                }
                else
                {
                    publish.Headers.Set(name, value);
                }
            }

            if (activity is not null)
            {
                // The dispatch span is exported, so the consumer's span hangs under it.
                publish.Headers.Set(MessagingTracing.TraceParentHeader, activity.Id);
            }
        }), timeout.Token);
    }

    async Task DeleteExpiredAsync(CancellationToken stoppingToken)
    {
        var now = DateTime.UtcNow;
        if (now < _nextCleanup)
        {
            return;
        }

        _nextCleanup = now + CleanupInterval;
        var cutoff = now - _options.RetentionPeriod;
        await using var scope = scopes.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        var deleted = await context.Set<OutboxMessage>()
            .Where(m => m.DispatchedAt != null && m.DispatchedAt < cutoff)
            .ExecuteDeleteAsync(stoppingToken);
        if (deleted > 0)
        {
            logger.LogDebug("Deleted {Count} dispatched outbox rows of {Context} older than {Cutoff}", deleted, typeof(TContext).Name, cutoff);
        }
    }

    TimeSpan RetryDelay(int failures)
    {
        var exponential = TimeSpan.FromMilliseconds(100 * Math.Pow(2, Math.Min(failures - 1, 16)));
        var capped = exponential < _options.MaxRetryDelay ? exponential : _options.MaxRetryDelay;
        // Jitter so the instances of a service do not hammer a recovering broker in step.
        return capped * (0.8 + (Random.Shared.NextDouble() * 0.4));
    }
}
