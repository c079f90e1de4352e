using System.Data.Common;
using System.Globalization;
using Ketenmesh.Audit.Chain;

namespace Ketenmesh.Audit.Storage;

/// <summary>
/// Whether a gateway of this log put the chain's head where it is, so that linking onto it (<see cref="ChainAppender"/>)
/// or signing a checkpoint over it (<see cref="AuditLog"/>) vouches for nothing someone else wrote. One rule for both:
/// the head is sealed with the current key; or with a retired key and no checkpoint of the current key comes before it
/// (records of the weeks around a rotation); or a verifying checkpoint was signed at exactly that record; or no record
/// carries a seal yet (a log written before seals, until its first sealed record); or none of this log's keys signed a
/// checkpoint here (a log written under another key file).
/// </summary>
internal static class HeadTrust
{
    public static async Task<bool> IsTrustedAsync(DbConnection connection, CheckpointSigner signer, long sequence, byte[] hash, byte[]? seal, CancellationToken cancellationToken)
    {
        if (sequence == 0)
        {
            return true;
        }
        switch (signer.SealOf(sequence, hash, seal))
        {
            case SealedBy.CurrentKey:
                return true;
            case SealedBy.RetiredKey when await FirstCheckpointOfCurrentKeyAsync(connection, signer, cancellationToken) is not { } first || sequence <= first:
                return true;
        }
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT hash, key_id, signature FROM audit_checkpoints WHERE sequence = @sequence";
        command.AddParameter("@sequence", sequence);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken) && ((byte[])reader.GetValue(0)).AsSpan().SequenceEqual(hash)
                && signer.Check(reader.GetString(1), sequence, hash, (byte[])reader.GetValue(2)) == CheckpointSignature.Verifies)
            {
                return true;
            }
        }
        command.Parameters.Clear();
        command.CommandText = "SELECT COUNT(*) FROM (SELECT 1 FROM audit_records WHERE seal IS NOT NULL LIMIT 1) AS sealed";
        if (Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
        {
            return true;
        }
        // Seals, but none of this log's keys ever signed a checkpoint here: the log was written under another key file (a
        // data directory made anew beside a database that stayed). Nothing here tells a record written in from one written
        // then, so the chain is continued from it, and verification names those records as unproven. A gateway signs a
        // checkpoint within a minute of its first record, so a log it wrote to is never taken for such a one for longer.
        command.CommandText = "SELECT sequence, hash, key_id, signature FROM audit_checkpoints";
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (signer.Check(reader.GetString(2), reader.GetInt64(0), (byte[])reader.GetValue(1), (byte[])reader.GetValue(3)) == CheckpointSignature.Verifies)
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>
    /// The first record a checkpoint of the current key vouches for, among those whose signature verifies (an inserted
    /// row that does not verify moves nothing); null before the current key's first checkpoint.
    /// </summary>
    public static async Task<long?> FirstCheckpointOfCurrentKeyAsync(DbConnection connection, CheckpointSigner signer, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence, hash, signature FROM audit_checkpoints WHERE key_id = @key ORDER BY sequence";
        command.AddParameter("@key", signer.KeyId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var sequence = reader.GetInt64(0);
            if (signer.Check(signer.KeyId, sequence, (byte[])reader.GetValue(1), (byte[])reader.GetValue(2)) == CheckpointSignature.Verifies)
            {
                return sequence;
            }
        }
        return null;
    }
}
