namespace Ketenmesh.SharingPolicy.Persistence;

/// <summary>One immutable grant version; only its state and the approval and revocation stamps ever change.</summary>
internal sealed class GrantVersionRow
{
    public string VersionHash { get; set; } = "";
    public string GrantId { get; set; } = "";
    public string PartnerId { get; set; } = "";
    public int Purpose { get; set; }
    public byte[] Grant { get; set; } = [];
    public int State { get; set; }
    public string DraftedBy { get; set; } = "";
    public long DraftedAtMs { get; set; }
    public string? ApprovedBy { get; set; }
    public long? ApprovedAtMs { get; set; }
    public string? RevokedBy { get; set; }
    public long? RevokedAtMs { get; set; }
    public string? RevocationReason { get; set; }
}

/// <summary>One publication: the snapshot the gateway enforces from then on.</summary>
internal sealed class PublicationRow
{
    public long Revision { get; set; }
    public long PublishedAtMs { get; set; }
    public string PublishedBy { get; set; } = "";
    public byte[] Snapshot { get; set; } = [];
}
