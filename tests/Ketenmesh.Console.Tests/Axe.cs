using Microsoft.Playwright;

namespace Ketenmesh.OfficerConsole.Tests;

/// <summary>
/// axe-core from npm (tests/peers, which `./mesh test` installs), injected into the page and run there: the
/// accessibility engine the issue names, at the version package-lock.json pins.
/// </summary>
public static class Axe
{
    static readonly string Script = Path.Combine(ConsoleMesh.RepoRoot(), "tests", "peers", "node_modules", "axe-core", "axe.min.js");

    /// <summary>Every input, select and textarea has a label (or an aria-label), every button a name, and axe finds nothing serious.</summary>
    public static async Task AssertLabelledAndAccessibleAsync(IPage page, string name)
    {
        var unlabelled = await page.EvaluateAsync<string[]>(@"() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
            .map(e => e.outerHTML)");
        Assert.True(unlabelled.Length == 0, $"{name}: controls without a label: {string.Join(" ", unlabelled)}");
        var serious = await SeriousViolationsAsync(page);
        Assert.True(serious.Count == 0, $"{name}: {string.Join("; ", serious)}");
    }

    /// <summary>Every serious or critical violation on the page as it stands, with the elements it was found on.</summary>
    public static async Task<IReadOnlyList<string>> SeriousViolationsAsync(IPage page)
    {
        if (!File.Exists(Script))
        {
            throw new InvalidOperationException($"{Script} is missing: `./mesh test` installs the node peers, axe-core among them.");
        }

        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = Script });
        return await page.EvaluateAsync<string[]>("""
            async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)
            """);
    }
}
