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
/// <remarks>
/// Fails closed without hanging: a caller waits at most <see cref="AuditOptions.AppendTimeout"/> (or
/// its own deadline), and no failure of the database, whatever exception it surfaces as, ends the
/// writer. After a failure the writer starts over on a fresh connection that reads the head again,
/// since a commit that failed may or may not have landed; until it has tried again, after a backoff,
/// new batches are refused at once rather than sent to a database that just failed.
/// </remarks>
public sealed class AuditLog : IHostedService, IAuditLog
{
    // Short enough that a database back after a blip is noticed at once; long enough that a gateway under
    // load does not knock on a dead database for every batch.
    private static readonly TimeSpan WarmUpTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IServiceScopeFactory _scopes;
    private readonly CheckpointSigner _signer;
    private readonly AuditOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<AuditLog> _logger;
    private long _lastCheckpointSequence = -1;
    private DateTimeOffset _lastCheckpointAt;
    private long _transactions;
    private long _failures;
    private long _uncheckpointed;
    private Task _writer = Task.CompletedTask;
    private ChainAppender? _appender;
    private TimeSpan _backoff = TimeSpan.Zero;
    private DateTimeOffset _retryAt;
    private DateTimeOffset? _failingSince;
    private Exception? _lastFailure;
    private readonly AuditMetrics _metrics;

    public AuditLog(IServiceScopeFactory scopes, CheckpointSigner signer, IOptions<AuditOptions> options, TimeProvider clock, ILogger<AuditLog> logger, AuditMetrics metrics)
    {
        _metrics = metrics;
        _scopes = scopes;
        _signer = signer;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _lastCheckpointAt = clock.GetUtcNow();
        if (_options.AppendTimeout <= TimeSpan.Zero && _options.AppendTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new InvalidOperationException($"Audit:AppendTimeout must be positive; it is {_options.AppendTimeout}.");
        }
    }

    /// <summary>Transactions committed so far: fewer than entries when group commit works.</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Commits and checkpoints that failed so far: a commit refused every caller of its batch, a checkpoint only itself.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public ValueTask<long> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(entry.Count, 1);
        // The one place every record passes: whatever a caller sent, no record holds control characters or grows unbounded.
        var pending = new Pending(AuditText.Clean(entry));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The audit log is stopped; nothing can be recorded, so nothing may be allowed.");
        }
        return new ValueTask<long>(WaitAsync(pending, cancellationToken));
    }

    private async Task<long> WaitAsync(Pending pending, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.Done.Task.WaitAsync(_options.AppendTimeout, _clock, cancellationToken);
        }
        catch (TimeoutException e)
        {
            // Marks the entry abandoned, so a writer that has not taken it yet drops it (see WriteAsync).
            pending.Done.TrySetCanceled(CancellationToken.None);
            throw new AuditUnavailableException(e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            pending.Done.TrySetCanceled(cancellationToken);
            throw;
        }
    }

    /// <summary>
    /// Starts the writer. Not a BackgroundService: one stopped right after starting may never run its
    /// loop, and then entries already accepted would wait forever.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Connect and read the chain's head before the first call waits on it: Audit:AppendTimeout bounds
        // an outage, not a cold start (a connection, the head, the model). A database that is away now is
        // met again by the first commit, which refuses its callers in bounded time like any outage.
        using var warmUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        warmUp.CancelAfter(WarmUpTimeout);
        try
        {
            _appender = await ChainAppender.OpenAsync(_scopes, _signer, warmUp.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("The audit log could not reach its database at start ({Error}); calls are refused until it can.", e.GetBaseException().Message);
        }
        _writer = Task.Run(WriteAsync, CancellationToken.None);
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
                // Its caller gave up and was refused, so the call never went ahead: a record of it would
                // tell a data subject of an access that did not happen. (One taken into a batch just
                // before its caller gives up is still written: the log may hold a record of a refused
                // call, never miss one of a call that went ahead.)
                if (!next.Done.Task.IsCompleted)
                {
                    batch.Add(next);
                }
            }
            if (batch.Count > 0 && await CommitAsync(batch))
            {
                await CheckpointIfDueAsync(force: false);
            }
            batch.Clear();
        }
        await CloseAppenderAsync();
        await CheckpointIfDueAsync(force: true);
    }

    /// <summary>Commits the batch and completes its callers; false, with every caller refused, when it could not.</summary>
    private async Task<bool> CommitAsync(List<Pending> batch)
    {
        if (_lastFailure is not null && _clock.GetUtcNow() < _retryAt)
        {
            // The database failed moments ago: refuse at once rather than make these callers wait on it too.
            Refuse(batch, _lastFailure);
            return false;
        }
        using var timeout = new CancellationTokenSource(_options.AppendTimeout, _clock);
        try
        {
            _appender ??= await ChainAppender.OpenAsync(_scopes, _signer, timeout.Token);
            var started = _clock.GetTimestamp();
            var sequences = await _appender.AppendAsync(batch.ConvertAll(p => p.Entry), timeout.Token);
            _metrics.CommitDuration.Record(_clock.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>(AuditMetrics.RecordsTag, batch.Count));
            _uncheckpointed += batch.Count;
            Interlocked.Increment(ref _transactions);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(sequences[i]);
            }
            if (_failingSince is { } since)
            {
                _logger.LogWarning("The audit log writes again, after {Seconds:N1} s in which every call was refused.", (_clock.GetUtcNow() - since).TotalSeconds);
            }
            _lastFailure = null;
            _failingSince = null;
            _backoff = TimeSpan.Zero;
            return true;
        }
        catch (Exception e)
        {
            // Any exception: a dropped connection, a server that refuses connections, a full disk, a
            // timeout. None may end the writer, or every later caller would wait in vain.
            Interlocked.Increment(ref _failures);
            _logger.LogError(e, "Could not commit {Count} audit records; the calls waiting on them are refused.", batch.Count);
            // The commit may or may not have landed: the next batch starts over on a fresh connection
            // that reads the head from the database, so the chain neither forks nor leaves a gap.
            await CloseAppenderAsync();
            var now = _clock.GetUtcNow();
            _failingSince ??= now;
            _lastFailure = e;
            _backoff = _backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
            _retryAt = now + _backoff;
            Refuse(batch, e);
            return false;
        }
    }

    private static void Refuse(List<Pending> batch, Exception cause)
    {
        foreach (var pending in batch)
        {
            pending.Done.TrySetException(new AuditUnavailableException(cause));
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
        // Callers of the next batch wait while this runs: it gets no longer than a commit does.
        using var timeout = new CancellationTokenSource(_options.AppendTimeout, _clock);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AuditDbContext>();
            var head = await db.Head.AsNoTracking().SingleOrDefaultAsync(timeout.Token);
            if (head is null || head.LastSequence == _lastCheckpointSequence)
            {
                return;
            }
            var now = _clock.GetUtcNow();
            if (_lastCheckpointSequence < 0)
            {
                _lastCheckpointSequence = await db.Checkpoints.MaxAsync(c => (long?)c.Sequence, timeout.Token) ?? 0;
            }
            var due = force
                || head.LastSequence - _lastCheckpointSequence >= _options.CheckpointInterval
                || now - _lastCheckpointAt >= _options.CheckpointPeriod;
            if (!due || head.LastSequence == _lastCheckpointSequence)
            {
                return;
            }
            await db.Database.OpenConnectionAsync(timeout.Token);
            if (!await HeadTrust.IsTrustedAsync(db.Database.GetDbConnection(), _signer, head.LastSequence, head.LastHash, head.LastSeal, timeout.Token))
            {
                // Not ours, nor another gateway's with this key: a signature now would vouch for what someone else wrote.
                _logger.LogError("The audit log's head, record {Sequence}, carries no seal of this log's gateways: no checkpoint is signed over it.", head.LastSequence);
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
            await db.SaveChangesAsync(timeout.Token);
            _lastCheckpointSequence = head.LastSequence;
            _lastCheckpointAt = now;
            _uncheckpointed = 0;
        }
        catch (DbUpdateException e) when (e.IsDuplicateKey())
        {
            // Another gateway on the same log wrote this checkpoint first, which is equally good.
            _logger.LogDebug(e, "Another writer signed the audit checkpoint first.");
            _lastCheckpointSequence = -1;
        }
        catch (Exception e)
        {
            // The records are durable already; only their signed checkpoint is late. It stays due, so the
            // next commit tries again, and the last checkpoint is read again since this one may have landed.
            Interlocked.Increment(ref _failures);
            _logger.LogWarning(e, "Could not write the audit checkpoint; the next commit tries again.");
            _lastCheckpointSequence = -1;
        }
    }

    private sealed record Pending(AuditEntry Entry)
    {
        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The log could not make an entry durable: whatever waited on it must not go ahead.</summary>
public sealed class AuditUnavailableException(Exception inner) : Exception("The audit log could not record the decision.", inner);
