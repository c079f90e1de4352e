using System.Data.Common;
using System.Text;

namespace Ketenmesh.Audit.Storage;

/// <summary>
/// Writes chained records on the appender's own connection, without change tracking: the commit path
/// runs once per batch while every waiting call waits on it.
/// </summary>
internal static class RecordBatch
{
    private const int RowsPerStatement = 200;

    private static readonly string[] Columns =
    [
        "sequence", "time_ms", "partner_id", "purpose", "method", "decision", "reason", "grant_id",
        "grant_version_hash", "legal_basis", "trace_id", "subject_pseudonym", "record_class", "call_count", "digest", "hash", "seal",
    ];

    /// <summary>Multi-row INSERTs: one round trip per 200 records.</summary>
    public static async Task InsertAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<AuditRecordRow> rows, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < rows.Count; offset += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, rows.Count - offset);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var sql = new StringBuilder("INSERT INTO audit_records (").AppendJoin(", ", Columns).Append(") VALUES ");
            for (var r = 0; r < count; r++)
            {
                sql.Append(r == 0 ? "(" : ", (");
                var values = Values(rows[offset + r]);
                for (var c = 0; c < values.Length; c++)
                {
                    var name = $"@p{r}_{c}";
                    sql.Append(c == 0 ? name : ", " + name);
                    command.AddParameter(name, values[c] ?? DBNull.Value);
                }
                sql.Append(')');
            }
            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>A one-row INSERT to prepare once and run per record with <see cref="Bind"/>.</summary>
    public static DbCommand PrepareSingleRow(DbConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO audit_records ({string.Join(", ", Columns)}) VALUES ({string.Join(", ", Columns.Select((_, c) => $"@p{c}"))})";
        for (var c = 0; c < Columns.Length; c++)
        {
            command.AddParameter($"@p{c}");
        }
        return command;
    }

    public static void Bind(DbCommand command, AuditRecordRow row)
    {
        var values = Values(row);
        for (var c = 0; c < values.Length; c++)
        {
            command.Parameters[c].Value = values[c] ?? DBNull.Value;
        }
    }

    private static object?[] Values(AuditRecordRow row) =>
    [
        row.Sequence, row.TimeMs, row.PartnerId, row.Purpose, row.Method, row.Decision,
        row.Reason, row.GrantId, row.GrantVersionHash, row.LegalBasis, row.TraceId,
        row.SubjectPseudonym, row.RecordClass, row.CallCount, row.Digest, row.Hash, row.Seal,
    ];
}
