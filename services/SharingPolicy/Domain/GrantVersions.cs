using Chain.Policy.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.SharingPolicy.Persistence;

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
