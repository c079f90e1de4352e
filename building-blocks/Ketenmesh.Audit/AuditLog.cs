using System.Threading.Channels;
using Ketenmesh.Audit.Chain;
using Ketenmesh.Audit.Storage;
using Ketenmesh.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Audit;

/// <summary>
/// The append side of the log, with group commit: callers queue entries; one writer takes whatever
/// is waiting, links it onto the chain in one transaction that claims the head row, commits once,
/// and only then tells every caller its entry is durable. A failed commit fails every entry of the
/// batch, so nothing is ever reported durable that is not.
/// </summary>
public sealed class AuditLog : IHostedService, IAuditLog
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IServiceScopeFactory _scopes;
    private readonly CheckpointSigner _signer;
    private readonly AuditOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<AuditLog> _logger;
    private long _lastCheckpointSequence = -1;
    private DateTimeOffset _lastCheckpointAt;
    private long _transactions;
    private long _uncheckpointed;
    private Task _writer = Task.CompletedTask;
    private ChainAppender? _appender;

    public AuditLog(IServiceScopeFactory scopes, CheckpointSigner signer, IOptions<AuditOptions> options, TimeProvider clock, ILogger<AuditLog> logger)
    {
        _scopes = scopes;
        _signer = signer;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _lastCheckpointAt = clock.GetUtcNow();
    }

    /// <summary>Transactions committed so far: fewer than entries when group commit works.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    public ValueTask<long> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        var pending = new Pending(entry);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The audit log is stopped; nothing can be recorded, so nothing may be allowed.");
        }
        return new ValueTask<long>(pending.Done.Task.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// Starts the writer. Not a BackgroundService: one stopped right after starting may never run its
    /// loop, and then entries already accepted would wait forever.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writer = Task.Run(WriteAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Accepts nothing more, then waits until every accepted entry is written (or the host gives up).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await _writer.WaitAsync(cancellationToken);
    }

    private async Task WriteAsync()
    {
        var batch = new List<Pending>(_options.MaxBatch);
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < _options.MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            await CommitAsync(batch);
            batch.Clear();
            await CheckpointIfDueAsync(force: false);
        }
        await CloseAppenderAsync();
        await CheckpointIfDueAsync(force: true);
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        try
        {
            _appender ??= await ChainAppender.OpenAsync(_scopes);
            var sequences = await _appender.AppendAsync(batch.ConvertAll(p => p.Entry));
            _uncheckpointed += batch.Count;
            Interlocked.Increment(ref _transactions);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(sequences[i]);
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Could not commit {Count} audit records; the calls waiting on them are refused.", batch.Count);
            // The next batch starts over on a fresh connection and reads the head again.
            await CloseAppenderAsync();
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(new AuditUnavailableException(e));
            }
        }
    }

    private async Task CloseAppenderAsync()
    {
        if (_appender is not null)
        {
            try
            {
                await _appender.DisposeAsync();
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Closing the audit connection after a failure failed too.");
            }
            _appender = null;
        }
    }

    private async Task CheckpointIfDueAsync(bool force)
    {
        // Decided from memory, so the busy path costs no extra query; another gateway's records only make it sooner.
        if (!force && _uncheckpointed < _options.CheckpointInterval && _clock.GetUtcNow() - _lastCheckpointAt < _options.CheckpointPeriod)
        {
            return;
        }
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AuditDbContext>();
            var head = await db.Head.AsNoTracking().SingleOrDefaultAsync();
            if (head is null || head.LastSequence == _lastCheckpointSequence)
            {
                return;
            }
            var now = _clock.GetUtcNow();
            if (_lastCheckpointSequence < 0)
            {
                _lastCheckpointSequence = await db.Checkpoints.MaxAsync(c => (long?)c.Sequence) ?? 0;
            }
            var due = force
                || head.LastSequence - _lastCheckpointSequence >= _options.CheckpointInterval
                || now - _lastCheckpointAt >= _options.CheckpointPeriod;
            if (!due || head.LastSequence == _lastCheckpointSequence)
            {
                return;
            }
            db.Checkpoints.Add(new AuditCheckpointRow
            {
                Sequence = head.LastSequence,
                Hash = head.LastHash,
                CreatedAtMs = now.ToUnixTimeMilliseconds(),
                KeyId = _signer.KeyId,
                Signature = _signer.Sign(head.LastSequence, head.LastHash),
            });
            await db.SaveChangesAsync();
            _lastCheckpointSequence = head.LastSequence;
            _lastCheckpointAt = now;
            _uncheckpointed = 0;
        }
        catch (DbUpdateException)
        {
            // Another gateway on the same log wrote this checkpoint first; equally good.
        }
    }

    private sealed record Pending(AuditEntry Entry)
    {
        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The log could not make an entry durable: whatever waited on it must not go ahead.</summary>
public sealed class AuditUnavailableException(Exception inner) : Exception("The audit log could not record the decision.", inner);
