using System.Data.Common;
using System.Text;

namespace Ketenmesh.Audit.Storage;

/// <summary>
/// Writes a batch of chained records with multi-row INSERTs on the transaction's own connection:
/// the commit path runs once per batch for every waiting call, so it skips change tracking.
/// </summary>
internal static class RecordBatch
{
    private const int RowsPerStatement = 200;

    private static readonly string[] Columns =
    [
        "sequence", "time_ms", "partner_id", "purpose", "method", "decision", "reason", "grant_id",
        "grant_version_hash", "legal_basis", "trace_id", "subject_pseudonym", "record_class", "digest", "hash",
    ];

    public static async Task InsertAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<AuditRecordRow> rows)
    {
        for (var offset = 0; offset < rows.Count; offset += RowsPerStatement)
        {
            var chunk = rows.Skip(offset).Take(RowsPerStatement).ToList();
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var sql = new StringBuilder("INSERT INTO audit_records (").AppendJoin(", ", Columns).Append(") VALUES ");
            for (var r = 0; r < chunk.Count; r++)
            {
                sql.Append(r == 0 ? "(" : ", (");
                object?[] values =
                [
                    chunk[r].Sequence, chunk[r].TimeMs, chunk[r].PartnerId, chunk[r].Purpose, chunk[r].Method, chunk[r].Decision,
                    chunk[r].Reason, chunk[r].GrantId, chunk[r].GrantVersionHash, chunk[r].LegalBasis, chunk[r].TraceId,
                    chunk[r].SubjectPseudonym, chunk[r].RecordClass, chunk[r].Digest, chunk[r].Hash,
                ];
                for (var c = 0; c < values.Length; c++)
                {
                    var name = $"@p{r}_{c}";
                    sql.Append(c == 0 ? name : ", " + name);
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = name;
                    parameter.Value = values[c] ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                }
                sql.Append(')');
            }
            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync();
        }
    }
}
