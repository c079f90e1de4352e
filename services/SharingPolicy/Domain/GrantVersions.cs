using Chain.Policy.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.SharingPolicy.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.SharingPolicy.Domain;

/// <summary>Between the stored row and the contract's GrantVersion.</summary>
internal static class GrantVersions
{
    public static GrantVersion ToContract(GrantVersionRow row) => new()
    {
        Grant = Grant.Parser.ParseFrom(row.Grant),
        VersionHash = row.VersionHash,
        State = (GrantState)row.State,
        DraftedBy = row.DraftedBy,
        DraftedAt = Stamp(row.DraftedAtMs),
        ApprovedBy = row.ApprovedBy ?? "",
        ApprovedAt = Stamp(row.ApprovedAtMs),
        RevokedBy = row.RevokedBy ?? "",
        RevokedAt = Stamp(row.RevokedAtMs),
        RevocationReason = row.RevocationReason ?? "",
    };

    public static GrantVersionRow ToRow(GrantVersion version) => new()
    {
        VersionHash = version.VersionHash,
        GrantId = version.Grant.GrantId,
        PartnerId = version.Grant.PartnerId,
        Purpose = (int)version.Grant.Purpose,
        Grant = Google.Protobuf.MessageExtensions.ToByteArray(version.Grant),
        State = (int)version.State,
        DraftedBy = version.DraftedBy,
        DraftedAtMs = version.DraftedAt.ToDateTimeOffset().ToUnixTimeMilliseconds(),
        ApprovedBy = string.IsNullOrEmpty(version.ApprovedBy) ? null : version.ApprovedBy,
        ApprovedAtMs = version.ApprovedAt?.ToDateTimeOffset().ToUnixTimeMilliseconds(),
    };

    private static Timestamp? Stamp(long? ms) => ms is { } value ? Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(value)) : null;
}

/// <summary>The publications: each a snapshot of every published grant version, under the next revision.</summary>
internal static class PolicyRevisions
{
    /// <summary>Adds the next revision, holding the versions now published, inside the caller's transaction.</summary>
    public static async Task<PolicySnapshot> AppendAsync(SharingPolicyDbContext db, string publishedBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var revision = (await db.Publications.MaxAsync(p => (long?)p.Revision, cancellationToken) ?? 0) + 1;
        var snapshot = new PolicySnapshot { Revision = revision, PublishedAt = Timestamp.FromDateTimeOffset(now) };
        var live = await db.Versions.AsNoTracking().Where(v => v.State == (int)GrantState.Published).ToListAsync(cancellationToken);
        snapshot.Grants.AddRange(live.OrderBy(v => v.GrantId, StringComparer.Ordinal).Select(GrantVersions.ToContract));
        db.Publications.Add(new PublicationRow { Revision = revision, PublishedAtMs = now.ToUnixTimeMilliseconds(), PublishedBy = publishedBy, Snapshot = snapshot.ToByteArray() });
        await db.SaveChangesAsync(cancellationToken);
        return snapshot;
    }
}
