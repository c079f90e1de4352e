using System.Data;
using System.Data.Common;
using Ketenmesh.Audit.Chain;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Audit.Storage;

/// <summary>
/// The writer's own open connection to the log, kept for as long as it works: every call waits on the
/// commit path, so a batch costs one transaction and nothing else (no scope, no change tracking, no
/// head query). The head is remembered between batches and claimed with a conditional update; when
/// another gateway on the same log moved it, the update finds no row, and the batch is linked again
/// onto the head as it now is.
/// </summary>
internal sealed class ChainAppender : IAsyncDisposable
{
    private const int MaxClaims = 8;

    private readonly AsyncServiceScope _scope;
    private readonly DbConnection _connection;
    private readonly bool _postgres;
    private readonly CheckpointSigner _signer;
    private DbCommand? _insertOne;
    private DbCommand? _claimHead;
    private long _headSequence = -1;
    private byte[] _headHash = [];

    private ChainAppender(AsyncServiceScope scope, DbConnection connection, bool postgres, CheckpointSigner signer)
    {
        _scope = scope;
        _connection = connection;
        _postgres = postgres;
        _signer = signer;
    }

    /// <param name="signer">Seals each record appended, and tells whether the head found in the database was sealed.</param>
    public static async Task<ChainAppender> OpenAsync(IServiceScopeFactory scopes, CheckpointSigner signer, CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        try
        {
            var db = scope.ServiceProvider.GetRequiredService<AuditDbContext>();
            await db.Database.OpenConnectionAsync(cancellationToken);
            return new ChainAppender(scope, db.Database.GetDbConnection(), db.Database.IsNpgsql(), signer);
        }
        catch
        {
            await scope.DisposeAsync();
            throw;
        }
    }

    /// <summary>Links the entries onto the chain and commits them; returns their sequence numbers.</summary>
    /// <remarks>
    /// The remembered head moves only once the commit returned. After any exception the appender is
    /// thrown away (AuditLog), since the commit may have landed or not; a new one reads the head again.
    /// </remarks>
    public async Task<long[]> AppendAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var digests = new byte[entries.Count][];
        for (var i = 0; i < entries.Count; i++)
        {
            digests[i] = CanonicalEntry.Digest(entries[i]);
        }
        for (var claim = 0; claim < MaxClaims; claim++)
        {
            if (_headSequence < 0)
            {
                await ReadHeadAsync(cancellationToken);
            }
            var rows = Link(entries, digests);
            await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
            if (!await ClaimHeadAsync(transaction, rows[^1], cancellationToken))
            {
                await transaction.RollbackAsync(cancellationToken);
                _headSequence = -1;
                continue;
            }
            await InsertAsync(transaction, rows, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            _headSequence = rows[^1].Sequence;
            _headHash = rows[^1].Hash;
            return rows.Select(r => r.Sequence).ToArray();
        }
        throw new DBConcurrencyException($"The audit head moved under {MaxClaims} attempts in a row to append.");
    }

    private List<AuditRecordRow> Link(IReadOnlyList<AuditEntry> entries, byte[][] digests)
    {
        var rows = new List<AuditRecordRow>(entries.Count);
        var sequence = _headSequence;
        var hash = _headHash;
        for (var i = 0; i < entries.Count; i++)
        {
            sequence++;
            hash = CanonicalEntry.Link(hash, digests[i]);
            rows.Add(AuditRecordRow.From(sequence, entries[i], digests[i], hash, _signer.Seal(sequence, hash)));
        }
        return rows;
    }

    // Outside any transaction: a stale answer only costs a failed claim, never a wrong link.
    private async Task ReadHeadAsync(CancellationToken cancellationToken)
    {
        await using var command = _connection.CreateCommand();
        command.CommandText = "SELECT last_sequence, last_hash, last_seal FROM audit_head WHERE id = 1";
        long sequence;
        byte[] hash;
        byte[]? seal;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            // The first migration seeds this row with the genesis hash; without it there is no chain to extend.
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException("The audit log has no head row; its schema was not migrated.");
            }
            sequence = reader.GetInt64(0);
            hash = (byte[])reader.GetValue(1);
            seal = reader.IsDBNull(2) ? null : (byte[])reader.GetValue(2);
        }
        await EnsureAGatewayWroteAsync(sequence, hash, seal, cancellationToken);
        _headSequence = sequence;
        _headHash = hash;
    }

    /// <summary>
    /// Links onto the head read from the database only when a gateway of this log put it there (<see cref="HeadTrust"/>).
    /// Otherwise a record was written in behind the gateways' backs, and sealing ours after it would vouch for it: every
    /// append is refused until it is examined.
    /// </summary>
    private async Task EnsureAGatewayWroteAsync(long sequence, byte[] hash, byte[]? seal, CancellationToken cancellationToken)
    {
        if (!await HeadTrust.IsTrustedAsync(_connection, _signer, sequence, hash, seal, cancellationToken))
        {
            throw new UnsealedAuditHeadException(sequence);
        }
    }

    /// <summary>Moves the head from where we last saw it to the batch's last record; false when it had moved.</summary>
    private async Task<bool> ClaimHeadAsync(DbTransaction transaction, AuditRecordRow last, CancellationToken cancellationToken)
    {
        // Made once per connection, as the insert is: a reused command keeps its prepared statement, where parsing it
        // again cost 17 µs of every SQLite commit's ~60 µs before the sync (the gateway benchmark, one call at a time).
        var claim = _claimHead ??= ClaimHeadCommand();
        claim.Transaction = transaction;
        claim.Parameters[0].Value = last.Sequence;
        claim.Parameters[1].Value = last.Hash;
        claim.Parameters[2].Value = _headSequence;
        claim.Parameters[3].Value = last.Seal;
        return await claim.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private DbCommand ClaimHeadCommand()
    {
        var command = _connection.CreateCommand();
        command.CommandText = "UPDATE audit_head SET last_sequence = @next, last_hash = @hash, last_seal = @seal WHERE id = 1 AND last_sequence = @seen";
        foreach (var name in (string[])["@next", "@hash", "@seen", "@seal"])
        {
            command.AddParameter(name);
        }
        return command;
    }

    private async Task InsertAsync(DbTransaction transaction, List<AuditRecordRow> rows, CancellationToken cancellationToken)
    {
        if (_postgres)
        {
            // One round trip per batch matters more than statement reuse over a network.
            await RecordBatch.InsertAsync(_connection, transaction, rows, cancellationToken);
            return;
        }
        // In-process SQLite has no round trips; one prepared statement run per row skips parsing.
        var insert = _insertOne ??= RecordBatch.PrepareSingleRow(_connection);
        insert.Transaction = transaction;
        foreach (var row in rows)
        {
            RecordBatch.Bind(insert, row);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_insertOne is not null)
        {
            await _insertOne.DisposeAsync();
        }
        if (_claimHead is not null)
        {
            await _claimHead.DisposeAsync();
        }
        await _scope.DisposeAsync();
    }
}

/// <summary>The chain's head in the database carries no seal of this log's gateways: someone else wrote it.</summary>
public sealed class UnsealedAuditHeadException(long sequence) : InvalidOperationException(
    $"The audit log's head, record {sequence}, was not written by a gateway of this log (no seal of its key, no checkpoint over it): " +
    "nothing is appended after it until it is examined (./mesh audit verify) and the record is dealt with.")
{
    public long Sequence { get; } = sequence;
}
