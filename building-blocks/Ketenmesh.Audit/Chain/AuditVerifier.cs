using Ketenmesh.Audit.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

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

    /// <summary>
    /// A checkpoint names a key this log holds neither as current nor as retired (the key file was replaced instead of
    /// rotated, say): it cannot be checked here, which is not the same as forged.
    /// </summary>
    UnknownCheckpointKey = 6,

    /// <summary>
    /// The record's content was removed sooner than any retention allows: a record before it, still whole, is younger
    /// than the shortest retention, and records are appended in time order. A purge has that shape, so only its age shows it.
    /// </summary>
    PurgedEarly = 7,

    /// <summary>
    /// A record after the last checkpoint carries no seal of this log's gateways, though records before it do: it was
    /// written into the database by someone else (the gateways refuse to append after it).
    /// </summary>
    Unsealed = 8,
}

public sealed record AuditProblem(long Sequence, AuditProblemKind Kind, string Detail);

/// <summary>
/// What a verification found. A slice (<see cref="AuditVerifier.VerifySliceAsync"/>) covers records from
/// <see cref="FromSequence"/>; <see cref="NextFromSequence"/> is where the next slice starts, 0 once the end of
/// the chain was reached. A whole-chain verification is one slice from 1 without bounds.
/// </summary>
public sealed record AuditVerification(long RecordsChecked, long CheckpointsChecked, long Purged, IReadOnlyList<AuditProblem> Problems, long FromSequence = 1, long NextFromSequence = 0)
{
    public bool Intact => Problems.Count == 0;
}

/// <summary>A signed checkpoint as stored, and whether its signature verifies with the key it names (current or retired).</summary>
public sealed record AuditCheckpoint(long Sequence, DateTimeOffset Time, string HeadHash, string KeyId, bool SignatureVerifies);

/// <summary>
/// Recomputes the chain from the genesis hash: each record's digest from its content (a purged
/// record contributes its stored digest), each link from its predecessor, and checks every signed
/// checkpoint against the chain. Records after the last checkpoint are protected by the chain only:
/// cutting them off shows at the next checkpoint, so checkpoints come often (and at every stop).
/// Every check needs only a record and its predecessor as stored, so the chain can be checked in slices
/// (the gateway's VerifyChain, which must not hold a gateway for the length of a long chain) that together
/// find exactly what one pass finds (<c>./mesh audit verify</c>): one implementation for both.
/// </summary>
public sealed class AuditVerifier(AuditDbContext db, CheckpointSigner signer, TimeProvider clock, IOptions<AuditOptions> options)
{
    /// <summary>Records read per query: a slice stops between chunks, and a reader is never left half read.</summary>
    private const int Chunk = 2000;

    /// <summary>
    /// How far a record's time may lie before its predecessor's: records are decided, then appended in order within
    /// seconds, but gateways' clocks may differ. Generous, as a purge that is early by less than this goes unseen.
    /// </summary>
    private static readonly TimeSpan Skew = TimeSpan.FromDays(1);

    /// <summary>How far back a slice looks for the whole record before its first one.</summary>
    private const long LookBack = 10_000;

    /// <summary>The whole chain in one pass, however long it takes.</summary>
    public Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken = default) =>
        VerifySliceAsync(1, long.MaxValue, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Records <paramref name="fromSequence"/> up to <paramref name="maxRecords"/> sequences on, and the checkpoints
    /// among them; stops early, between chunks, once <paramref name="budget"/> is spent (at least one chunk is
    /// always checked, so slices always advance).
    /// </summary>
    public async Task<AuditVerification> VerifySliceAsync(long fromSequence, long maxRecords, TimeSpan budget, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromSequence, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        var started = clock.GetTimestamp();
        var to = fromSequence > long.MaxValue - maxRecords ? long.MaxValue : fromSequence + maxRecords - 1;
        var problems = new List<AuditProblem>();
        // The predecessor as stored; when it is gone, the slice that holds it says so, and this record's link cannot be checked.
        var previous = fromSequence == 1
            ? CanonicalEntry.Genesis
            : await db.Records.AsNoTracking().Where(r => r.Sequence == fromSequence - 1).Select(r => r.Hash).FirstOrDefaultAsync(cancellationToken);
        long expected = fromSequence, covered = fromSequence - 1, checkedCount = 0, checkpointCount = 0, purged = 0;
        // A purged record is at least as old as the nearest whole record before it (less the skew); if that one is younger
        // than the shortest retention, the purge came too soon.
        var purgeableBeforeMs = (clock.GetUtcNow() - TimeSpan.FromTicks(Math.Min(options.Value.AccessRetention.Ticks, options.Value.ConfidentialRetention.Ticks)) + Skew).ToUnixTimeMilliseconds();
        // Records up to the newest checkpoint that verifies and fits the chain are vouched for by its signature (a row
        // anyone may insert vouches for nothing); after it, each must carry the seal of a gateway of this log, once any
        // record does (records written before seals came have none), and a retired key's seal only before the current
        // key's first checkpoint.
        var lastCheckpoint = await LastSoundCheckpointAsync(cancellationToken);
        // Looked up only when a retired key's seal is met (around a rotation): every other slice does without it.
        (bool Known, long? Since) currentKey = default;
        var sealsBegan = fromSequence > lastCheckpoint + 1
            && await db.Records.AnyAsync(r => r.Sequence >= lastCheckpoint && r.Sequence < fromSequence && r.Seal != null, cancellationToken);
        // Looked for a bounded way back: far into a purged past, no whole record is near, and none is needed.
        var wholeBeforeMs = fromSequence == 1
            ? null
            : await db.Records.AsNoTracking().Where(r => r.Sequence < fromSequence && r.Sequence >= fromSequence - LookBack && r.PurgedAtMs == null)
                .OrderByDescending(r => r.Sequence).Select(r => r.TimeMs).FirstOrDefaultAsync(cancellationToken);
        var stoppedEarly = false;
        async Task<long?> CurrentKeySinceAsync()
        {
            if (!currentKey.Known)
            {
                await db.Database.OpenConnectionAsync(cancellationToken);
                currentKey = (true, await HeadTrust.FirstCheckpointOfCurrentKeyAsync(db.Database.GetDbConnection(), signer, cancellationToken));
            }
            return currentKey.Since;
        }
        (long First, long Last)? unsealed = null;
        void ReportUnsealed()
        {
            if (unsealed is { } run)
            {
                problems.Add(new AuditProblem(run.First, AuditProblemKind.Unsealed, run.First == run.Last
                    ? "the record carries no seal of a key this log holds: it was written into the database by someone else"
                    : $"records {run.First}..{run.Last} carry no seal of a key this log holds: written into the database by someone else, or under a key file replaced instead of rotated"));
                unsealed = null;
            }
        }
        while (true)
        {
            if (checkedCount > 0 && budget != Timeout.InfiniteTimeSpan && clock.GetElapsedTime(started) >= budget)
            {
                stoppedEarly = true;
                break;
            }
            var after = covered;
            var rows = await db.Records.AsNoTracking().Where(r => r.Sequence > after && r.Sequence <= to).OrderBy(r => r.Sequence).Take(Chunk).ToListAsync(cancellationToken);
            // A full chunk covers up to its last record; a short one covers the rest of the slice.
            var chunkEnd = rows.Count == Chunk ? rows[^1].Sequence : to;
            var hashes = new Dictionary<long, byte[]>();
            foreach (var row in rows)
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
                    if (wholeBeforeMs > purgeableBeforeMs)
                    {
                        problems.Add(new AuditProblem(row.Sequence, AuditProblemKind.PurgedEarly,
                            $"the record's content is gone, though a record before it is from {DateTimeOffset.FromUnixTimeMilliseconds(wholeBeforeMs.Value):yyyy-MM-dd}, within every retention"));
                    }
                }
                else if (!CanonicalEntry.Digest(entry).AsSpan().SequenceEqual(row.Digest))
                {
                    problems.Add(new AuditProblem(row.Sequence, AuditProblemKind.Changed, "the content does not match its digest"));
                }
                else
                {
                    wholeBeforeMs = row.TimeMs;
                }
                sealsBegan |= row.Seal is not null;
                if (row.Sequence > lastCheckpoint && sealsBegan && signer.SealOf(row.Sequence, row.Hash, row.Seal) is var sealedBy && sealedBy != SealedBy.CurrentKey
                    && !(sealedBy == SealedBy.RetiredKey && await CurrentKeySinceAsync() is var since && (since is null || row.Sequence <= since)))
                {
                    // One problem per run of such records, as for missing ones: a key file replaced instead of rotated leaves
                    // every record after the last checkpoint it can check unproven, and that is one finding, not thousands.
                    if (unsealed is { } run && run.Last == row.Sequence - 1)
                    {
                        unsealed = (run.First, row.Sequence);
                    }
                    else
                    {
                        ReportUnsealed();
                        unsealed = (row.Sequence, row.Sequence);
                    }
                }
                if (row.Sequence == expected && previous is not null && !CanonicalEntry.Link(previous, row.Digest).AsSpan().SequenceEqual(row.Hash))
                {
                    problems.Add(new AuditProblem(row.Sequence, AuditProblemKind.Reordered, "the record does not follow the one before it"));
                }
                hashes[row.Sequence] = row.Hash;
                previous = row.Hash;
                expected = row.Sequence + 1;
            }
            var checkpoints = await db.Checkpoints.AsNoTracking().Where(c => c.Sequence > after && c.Sequence <= chunkEnd).OrderBy(c => c.Sequence).ToListAsync(cancellationToken);
            foreach (var checkpoint in checkpoints)
            {
                checkpointCount++;
                Judge(checkpoint, hashes, problems);
            }
            covered = chunkEnd;
            if (rows.Count < Chunk)
            {
                break;
            }
        }
        ReportUnsealed();
        long next;
        if (stoppedEarly)
        {
            next = covered + 1;
        }
        else if (to != long.MaxValue && await db.Records.AnyAsync(r => r.Sequence > to, cancellationToken))
        {
            // The chain goes on past the slice: records missing at the slice's end are a gap, not the chain's end.
            if (expected <= to)
            {
                problems.Add(new AuditProblem(expected, AuditProblemKind.Missing, $"records {expected}..{to} are missing"));
            }
            next = to + 1;
        }
        else
        {
            next = 0;
            if (to != long.MaxValue)
            {
                // The chain ends inside this slice: a checkpoint past its end vouches for records that are gone.
                var beyond = await db.Checkpoints.AsNoTracking().Where(c => c.Sequence > to).OrderBy(c => c.Sequence).ToListAsync(cancellationToken);
                foreach (var checkpoint in beyond)
                {
                    checkpointCount++;
                    Judge(checkpoint, [], problems);
                }
            }
        }
        return new AuditVerification(checkedCount, checkpointCount, purged, problems.OrderBy(p => p.Sequence).ToList(), fromSequence, next);
    }

    /// <summary>A checkpoint against the chain's hashes around it: its key, its signature, then the record it vouches for.</summary>
    private void Judge(AuditCheckpointRow checkpoint, Dictionary<long, byte[]> hashes, List<AuditProblem> problems)
    {
        var signature = Check(checkpoint);
        if (signature == CheckpointSignature.UnknownKey)
        {
            problems.Add(new AuditProblem(checkpoint.Sequence, AuditProblemKind.UnknownCheckpointKey,
                $"checkpoint signed by key '{checkpoint.KeyId}', which this log holds neither as its key nor as a retired one (Audit:KeyFile and its .retired directory)"));
        }
        else if (signature == CheckpointSignature.DoesNotVerify)
        {
            problems.Add(new AuditProblem(checkpoint.Sequence, AuditProblemKind.BadCheckpointSignature, $"checkpoint signed by key '{checkpoint.KeyId}' does not verify"));
        }
        else if (!hashes.TryGetValue(checkpoint.Sequence, out var hash))
        {
            problems.Add(new AuditProblem(checkpoint.Sequence, AuditProblemKind.Missing, $"the checkpoint vouches for record {checkpoint.Sequence}, which is gone"));
        }
        else if (!hash.AsSpan().SequenceEqual(checkpoint.Hash))
        {
            problems.Add(new AuditProblem(checkpoint.Sequence, AuditProblemKind.CheckpointMismatch, "the chain at this record differs from what the checkpoint signed"));
        }
    }

    /// <summary>The newest checkpoint whose signature verifies and whose record is in the chain with that hash; 0 if none.</summary>
    private async Task<long> LastSoundCheckpointAsync(CancellationToken cancellationToken)
    {
        var candidates = await db.Checkpoints.AsNoTracking().OrderByDescending(c => c.Sequence).Take(100).ToListAsync(cancellationToken);
        foreach (var checkpoint in candidates)
        {
            if (Check(checkpoint) != CheckpointSignature.Verifies)
            {
                continue;
            }
            var hash = await db.Records.AsNoTracking().Where(r => r.Sequence == checkpoint.Sequence).Select(r => r.Hash).FirstOrDefaultAsync(cancellationToken);
            if (hash is not null && hash.AsSpan().SequenceEqual(checkpoint.Hash))
            {
                return checkpoint.Sequence;
            }
        }
        return 0;
    }

    /// <summary>The newest signed checkpoint, or null before the first.</summary>
    public async Task<AuditCheckpoint?> LastCheckpointAsync(CancellationToken cancellationToken = default)
    {
        var last = await db.Checkpoints.AsNoTracking().OrderByDescending(c => c.Sequence).FirstOrDefaultAsync(cancellationToken);
        return last is null
            ? null
            : new AuditCheckpoint(last.Sequence, DateTimeOffset.FromUnixTimeMilliseconds(last.CreatedAtMs), Convert.ToHexStringLower(last.Hash), last.KeyId, Check(last) == CheckpointSignature.Verifies);
    }

    private CheckpointSignature Check(AuditCheckpointRow checkpoint) =>
        signer.Check(checkpoint.KeyId, checkpoint.Sequence, checkpoint.Hash, checkpoint.Signature);
}
