using System.Text.RegularExpressions;

namespace Ketenmesh.OfficerConsole.Tests;

/// <summary>The README shows the console's main pages with screenshots the browser tests made (docs/console).</summary>
public sealed partial class ReadmeScreenshotTests
{
    [Fact]
    public void The_readme_shows_every_main_page_and_each_screenshot_is_a_png_in_docs()
    {
        var root = ConsoleMesh.RepoRoot();
        var linked = ImageLink().Matches(File.ReadAllText(Path.Combine(root, "README.md"))).Select(m => m.Groups["path"].Value).ToList();
        Assert.Superset(
            new HashSet<string> { "grants", "matrix", "grant", "editor", "simulation", "audit", "subject", "verify", "dashboard" },
            linked.Select(Path.GetFileNameWithoutExtension).ToHashSet()!);
        Assert.All(linked, path =>
        {
            var file = Path.Combine(root, path);
            Assert.True(File.Exists(file), $"{path} is linked from the README but not in the repository");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(file)[..4]);
        });
    }

    [GeneratedRegex(@"!\[[^\]]*\]\((?<path>docs/console/[^)]+\.png)\)")]
    private static partial Regex ImageLink();
}
