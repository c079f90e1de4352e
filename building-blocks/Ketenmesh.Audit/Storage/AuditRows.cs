namespace Ketenmesh.Audit.Storage;

/// <summary>
/// One chained record. The content columns are nullable only for purging: a purged record keeps its
/// sequence, digest and hash (a tombstone), so the chain still verifies across it.
/// </summary>
internal sealed class AuditRecordRow
{
    public long Sequence { get; set; }
    /// <summary>Unix milliseconds: compares and sorts alike on SQLite and PostgreSQL.</summary>
    public long? TimeMs { get; set; }
    public string? PartnerId { get; set; }
    public string? Purpose { get; set; }
    public string? Method { get; set; }
    public int? Decision { get; set; }
    public string? Reason { get; set; }
    public string? GrantId { get; set; }
    public string? GrantVersionHash { get; set; }
    public string? LegalBasis { get; set; }
    public string? TraceId { get; set; }
    public string? SubjectPseudonym { get; set; }
    public int RecordClass { get; set; }
    /// <summary>How many calls the record stands for (<see cref="AuditEntry.Count"/>); kept by a purge, like the class.</summary>
    public int CallCount { get; set; } = 1;
    public byte[] Digest { get; set; } = [];
    public byte[] Hash { get; set; } = [];
    /// <summary>The writing gateway's seal (<see cref="Chain.CheckpointSigner.Seal"/>); null on records written before seals were.</summary>
    public byte[]? Seal { get; set; }
    public long? PurgedAtMs { get; set; }

    public static AuditRecordRow From(long sequence, AuditEntry entry, byte[] digest, byte[] hash, byte[]? seal) => new()
    {
        Sequence = sequence,
        TimeMs = entry.Time.ToUnixTimeMilliseconds(),
        PartnerId = entry.PartnerId,
        Purpose = entry.Purpose,
        Method = entry.Method,
        Decision = (int)entry.Decision,
        Reason = entry.Reason,
        GrantId = entry.GrantId,
        GrantVersionHash = entry.GrantVersionHash,
        LegalBasis = entry.LegalBasis,
        TraceId = entry.TraceId,
        SubjectPseudonym = entry.SubjectPseudonym,
        RecordClass = (int)entry.RecordClass,
        CallCount = entry.Count,
        Digest = digest,
        Hash = hash,
        Seal = seal,
    };

    /// <summary>The entry as stored; null once purged.</summary>
    public AuditEntry? ToEntry() => PurgedAtMs is not null || TimeMs is null
        ? null
        : new AuditEntry(DateTimeOffset.FromUnixTimeMilliseconds(TimeMs.Value), PartnerId!, Purpose!, Method!, (AuditDecision)Decision!.Value, Reason!, GrantId, GrantVersionHash, LegalBasis, TraceId, SubjectPseudonym, (AuditRecordClass)RecordClass, CallCount);
}

/// <summary>The chain's head, one row, claimed by each appending transaction with a conditional update, so that writers on several gateways take turns.</summary>
internal sealed class AuditHeadRow
{
    public int Id { get; set; } = 1;
    public long LastSequence { get; set; }
    public byte[] LastHash { get; set; } = [];
    /// <summary>The seal of the record at the head, set with it by the gateway that appended it.</summary>
    public byte[]? LastSeal { get; set; }
}

internal sealed class AuditCheckpointRow
{
    public long Sequence { get; set; }
    public byte[] Hash { get; set; } = [];
    public long CreatedAtMs { get; set; }
    public string KeyId { get; set; } = "";
    public byte[] Signature { get; set; } = [];
}

/// <summary>A privacy officer's release of a confidential record for data-subject access reports; appended, never edited.</summary>
internal sealed class AuditReleaseRow
{
    public long Id { get; set; }
    public long Sequence { get; set; }
    public string ReleasedBy { get; set; } = "";
    public string Reason { get; set; } = "";
    public long ReleasedAtMs { get; set; }
}
