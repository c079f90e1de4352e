using Chain.Policy.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Ketenmesh.Policy.Seed;

/// <summary>
/// The default sharing policy drawn from the brief (Seed/default-policy.json), which the local
/// profile publishes at first run. Its four eyes are the repository's review: every change to the
/// file is a reviewed commit, so its versions enter as published by <see cref="Author"/>.
/// </summary>
public static class DefaultPolicy
{
    public const string Author = "seed:default-policy.json";

    public static GrantSet Grants()
    {
        using var stream = typeof(DefaultPolicy).Assembly.GetManifestResourceStream("default-policy.json")
            ?? throw new InvalidOperationException("The default policy is not embedded in Ketenmesh.Policy.");
        using var reader = new StreamReader(stream);
        return JsonParser.Default.Parse<GrantSet>(reader.ReadToEnd());
    }

    /// <summary>The seeded grants as one published snapshot.</summary>
    public static PolicySnapshot Snapshot(DateTimeOffset publishedAt)
    {
        var at = Timestamp.FromDateTimeOffset(publishedAt);
        var snapshot = new PolicySnapshot { Revision = 1, PublishedAt = at };
        snapshot.Grants.AddRange(Grants().Grants.Select(g => new GrantVersion
        {
            Grant = g,
            VersionHash = GrantVersionHash.Compute(g),
            State = GrantState.Published,
            DraftedBy = Author,
            DraftedAt = at,
            ApprovedBy = Author,
            ApprovedAt = at,
        }));
        return snapshot;
    }
}
