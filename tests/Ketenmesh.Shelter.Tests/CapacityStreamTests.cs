using Chain.Shelter.V1;
using Ketenmesh.Shelter.Domain;

namespace Ketenmesh.Shelter.Tests;

/// <summary>
/// The stream reads the purge mark only when what it read has a hole: committed versions follow one another, so a
/// hole is a purge (each shelter's latest change is kept, which can leave single versions standing inside it).
/// </summary>
public sealed class CapacityStreamTests
{
    private static List<CapacitySnapshot> Versions(params long[] versions) => [.. versions.Select(v => new CapacitySnapshot { Version = v })];

    [Fact]
    public void Changes_right_after_what_was_read_have_no_hole()
    {
        Assert.True(CapacityStream.Contiguous(10, Versions(11, 12, 13)));
    }

    [Fact]
    public void A_first_change_beyond_the_next_version_is_a_hole()
    {
        Assert.False(CapacityStream.Contiguous(10, Versions(12, 13)));
    }

    [Fact]
    public void A_kept_latest_change_inside_a_purged_stretch_does_not_hide_the_hole_after_it()
    {
        // 11 was a shelter's latest and survived the purge of 12..20.
        Assert.False(CapacityStream.Contiguous(10, Versions(11, 21, 22)));
    }
}
