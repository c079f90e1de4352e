using Ketenmesh.Audit.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Audit.Reading;

/// <summary>
/// Purges the content of records older than their class's retention. The row stays as a tombstone
/// (sequence, digest, hash), so the chain and its checkpoints still verify after a purge.
/// </summary>
public sealed class AuditRetention(AuditDbContext db, IOptions<AuditOptions> options)
{
    /// <returns>How many records were purged.</returns>
    public async Task<int> PurgeAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var purged = 0;
        foreach (var (recordClass, retention) in new[] { (AuditRecordClass.Access, options.Value.AccessRetention), (AuditRecordClass.Confidential, options.Value.ConfidentialRetention) })
        {
            var cutoff = (now - retention).ToUnixTimeMilliseconds();
            var nowMs = now.ToUnixTimeMilliseconds();
            purged += await db.Records
                .Where(r => r.RecordClass == (int)recordClass && r.PurgedAtMs == null && r.TimeMs < cutoff)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.PurgedAtMs, nowMs)
                    .SetProperty(r => r.TimeMs, (long?)null)
                    .SetProperty(r => r.PartnerId, (string?)null)
                    .SetProperty(r => r.Purpose, (string?)null)
                    .SetProperty(r => r.Method, (string?)null)
                    .SetProperty(r => r.Decision, (int?)null)
                    .SetProperty(r => r.Reason, (string?)null)
                    .SetProperty(r => r.GrantId, (string?)null)
                    .SetProperty(r => r.GrantVersionHash, (string?)null)
                    .SetProperty(r => r.LegalBasis, (string?)null)
                    .SetProperty(r => r.TraceId, (string?)null)
                    .SetProperty(r => r.SubjectPseudonym, (string?)null), cancellationToken);
        }
        return purged;
    }
}
