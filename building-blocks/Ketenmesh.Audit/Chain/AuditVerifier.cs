using Ketenmesh.Audit.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Audit.Chain;

public enum AuditProblemKind
{
    /// <summary>The record's content no longer matches the digest it was chained with.</summary>
    Changed = 1,

    /// <summary>Records are gone: a gap in the sequence, or fewer records than a checkpoint vouches for.</summary>
    Missing = 2,

    /// <summary>The record is intact but does not follow its predecessor: records were moved or swapped.</summary>
    Reordered = 3,

    /// <summary>A checkpoint's signature does not verify with the checkpoint key.</summary>
    BadCheckpointSignature = 4,

    /// <summary>A checkpoint vouches for a different head hash than the chain has at that sequence.</summary>
    CheckpointMismatch = 5,
}

public sealed record AuditProblem(long Sequence, AuditProblemKind Kind, string Detail);

public sealed record AuditVerification(long RecordsChecked, long CheckpointsChecked, long Purged, IReadOnlyList<AuditProblem> Problems)
{
    public bool Intact => Problems.Count == 0;
}

/// <summary>
/// Recomputes the whole chain from the genesis hash: each record's digest from its content (a purged
/// record contributes its stored digest), each link from its predecessor, and checks every signed
/// checkpoint against the chain. Records after the last checkpoint are protected by the chain only:
/// cutting them off shows at the next checkpoint, so checkpoints come often (and at every stop).
/// </summary>
public sealed class AuditVerifier(AuditDbContext db, CheckpointSigner signer)
{
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        var problems = new List<AuditProblem>();
        var hashes = new Dictionary<long, byte[]>();
        var previous = CanonicalEntry.Genesis;
        long expected = 1, checkedCount = 0, purged = 0;
        await foreach (var row in db.Records.AsNoTracking().OrderBy(r => r.Sequence).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            checkedCount++;
            if (row.Sequence != expected)
            {
                problems.Add(new AuditProblem(expected, AuditProblemKind.Missing, $"records {expected}..{row.Sequence - 1} are missing"));
            }
            var entry = row.ToEntry();
            if (entry is null)
            {
                purged++;
            }
            else if (!CanonicalEntry.Digest(entry).AsSpan().SequenceEqual(row.Digest))
            {
                problems.Add(new AuditProblem(row.Sequence, AuditProblemKind.Changed, "the content does not match its digest"));
            }
            var link = CanonicalEntry.Link(previous, row.Digest);
            if (row.Sequence == expected && !link.AsSpan().SequenceEqual(row.Hash))
            {
                problems.Add(new AuditProblem(row.Sequence, AuditProblemKind.Reordered, "the record does not follow the one before it"));
            }
            hashes[row.Sequence] = row.Hash;
            previous = row.Hash;
            expected = row.Sequence + 1;
        }

        var checkpoints = await db.Checkpoints.AsNoTracking().OrderBy(c => c.Sequence).ToListAsync(cancellationToken);
        foreach (var checkpoint in checkpoints)
        {
            if (checkpoint.KeyId != signer.KeyId || !signer.Verify(checkpoint.Sequence, checkpoint.Hash, checkpoint.Signature))
            {
                problems.Add(new AuditProblem(checkpoint.Sequence, AuditProblemKind.BadCheckpointSignature, $"checkpoint signed by key '{checkpoint.KeyId}' does not verify"));
                continue;
            }
            if (!hashes.TryGetValue(checkpoint.Sequence, out var hash))
            {
                problems.Add(new AuditProblem(checkpoint.Sequence, AuditProblemKind.Missing, $"the checkpoint vouches for record {checkpoint.Sequence}, which is gone"));
            }
            else if (!hash.AsSpan().SequenceEqual(checkpoint.Hash))
            {
                problems.Add(new AuditProblem(checkpoint.Sequence, AuditProblemKind.CheckpointMismatch, "the chain at this record differs from what the checkpoint signed"));
            }
        }
        return new AuditVerification(checkedCount, checkpoints.Count, purged, problems.OrderBy(p => p.Sequence).ToList());
    }
}
