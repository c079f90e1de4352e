using System.Net;
using Ketenmesh.Testing;
using Microsoft.Playwright;

namespace Ketenmesh.OfficerConsole.Tests;

/// <summary>
/// The embedded mesh as `./mesh up` runs it, as a real process on free ports (a developer's mesh may hold the
/// fixed ones), and Debian's chromium driven by Playwright. Never a downloaded browser.
/// </summary>
public sealed class ConsoleMesh : IAsyncLifetime
{
    /// <summary>Debian's chromium (`./mesh test` installs it).</summary>
    public const string Chromium = "/usr/bin/chromium";

    readonly string _root = Directory.CreateTempSubdirectory("ketenmesh-console-").FullName;
    ComponentProcess _mesh = null!;
    IPlaywright _playwright = null!;

    public string DataDirectory => Path.Combine(_root, "data");

    public Uri Console { get; private set; } = null!;

    public Uri Gateway { get; private set; } = null!;

    public Uri Identity { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var port = new Dictionary<string, int>();
        foreach (var name in new[] { "identity", "policy", "signals", "risk", "registry", "shelter", "returns", "gateway", "gateway-tls", "console" })
        {
            port[name] = FreePorts.Next();
        }

        string Address(string name) => $"http://127.0.0.1:{port[name]}";
        var settings = new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = DataDirectory,
            ["Components:gateway:Service:TlsPort"] = port["gateway-tls"].ToString(),
            ["Gateway:Authority"] = Address("identity"),
            ["Gateway:PolicyAddress"] = Address("policy"),
            ["SharingPolicy:Authority"] = Address("identity"),
            ["Console:Authority"] = Address("identity"),
            ["Console:PolicyAddress"] = Address("policy"),
            ["Console:GatewayAddress"] = Address("gateway"),
            ["Identity:ConsoleRedirectUri"] = $"{Address("console")}/signin-oidc",
            // A signed checkpoint every two records rather than every 1000 (or a minute in), so the verify page has
            // one to show within a test's few calls.
            ["Components:gateway:Audit:CheckpointInterval"] = "2",
        };
        foreach (var name in new[] { "identity", "policy", "signals", "risk", "registry", "shelter", "returns", "gateway", "console" })
        {
            settings[$"Components:{name}:Service:Port"] = port[name].ToString();
        }

        foreach (var service in new[] { "signals", "risk", "registry", "shelter", "returns" })
        {
            settings[$"ReverseProxy:Clusters:{service}:Destinations:{service}:Address"] = Address(service);
        }

        Console = new Uri(Address("console"));
        Gateway = new Uri(Address("gateway"));
        Identity = new Uri(Address("identity"));
        _mesh = ComponentProcess.Start("mesh", "Ketenmesh.Mesh.dll", settings);
        await _mesh.WaitForAsync("Ready.");
        // The gateway follows the published policy once it has read it; every test starts from an enforcing gateway.
        await _mesh.WaitForAsync("Enforcing sharing policy revision");

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>What the mesh printed (endpoints, readiness; never payloads).</summary>
    public string Output => _mesh.Output;

    /// <summary>The password the identity made for an officer or researcher, where it keeps it.</summary>
    public string Password(string account) => File.ReadAllText(Ketenmesh.Identity.Domain.OfficerPasswords.PathOf(DataDirectory, account)).Trim();

    /// <summary>
    /// A fresh browser context (no cookies) on the sign-in page the console sends an officer to when they open
    /// <paramref name="path"/>, at the console's address or as <paramref name="console"/> names it (localhost for
    /// 127.0.0.1, say).
    /// </summary>
    public async Task<IPage> SignInPageAsync(Uri? console = null, string path = "/")
    {
        var address = console ?? Console;
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString().TrimEnd('/') });
        // Two test classes each run a mesh and a browser on CI's two cores: a page's first load (Razor compiling, the
        // identity's first sign-in) can take longer than Playwright's 30 s there. The tests are about what pages
        // show, not how soon; a page that never comes still fails.
        context.SetDefaultNavigationTimeout(120_000);
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(path);
        // The console sent the browser to the identity's login page, which it serves on its own address.
        Assert.StartsWith(address.GetLeftPart(UriPartial.Authority) + "/account/login", page.Url);
        return page;
    }

    /// <summary>A fresh browser context (no cookies) signed in as <paramref name="officer"/> through the identity's login page.</summary>
    public async Task<IPage> SignInAsync(string officer, Uri? console = null)
    {
        var address = console ?? Console;
        var page = await SignInPageAsync(address);
        await page.GetByLabel("Officer").FillAsync(officer);
        await page.GetByLabel("Password").FillAsync(Password(officer));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await ArriveSignedInAsync(page, address.GetLeftPart(UriPartial.Authority) + "/", $"Signed in as {officer}");
        return page;
    }

    /// <summary>A fresh browser context signed in as the Rapporteur's researcher: the dashboard asks for their sign-in itself.</summary>
    public async Task<IPage> SignInAsResearcherAsync(string researcher)
    {
        var page = await SignInPageAsync(path: "/Dashboard");
        await page.GetByLabel("Officer or researcher").FillAsync(researcher);
        await page.GetByLabel("Password").FillAsync(Password(researcher));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await ArriveSignedInAsync(page, Console.GetLeftPart(UriPartial.Authority) + "/Dashboard", $"Signed in as {researcher} for the National Rapporteur");
        return page;
    }

    /// <summary>
    /// Waits until a sign-in's redirects end at <paramref name="url"/> and the page says <paramref name="signedIn"/>.
    /// It waits for the page's answer (commit), not its load event: two CI runs had the browser at the right address,
    /// network idle, and still no load event after 120 s on a fresh mesh's first sign-in. What the page shows is what
    /// the tests are about, checked either way, and a failure says what the page said. 120 s each: the first page of a
    /// fresh mesh (a dashboard reads four breakdowns through the gateway) is slow on a loaded CI machine.
    /// </summary>
    static async Task ArriveSignedInAsync(IPage page, string url, string signedIn)
    {
        try
        {
            await page.WaitForURLAsync(url, new() { Timeout = 120_000, WaitUntil = WaitUntilState.Commit });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The sign-in ended at {page.Url}, not at {url}; the page said: {await ShownTextAsync(page)}");
        }
        try
        {
            await Assertions.Expect(page.GetByText(signedIn)).ToBeVisibleAsync(new() { Timeout = 120_000 });
        }
        catch (PlaywrightException)
        {
            Assert.Fail($"The page at {page.Url} does not say '{signedIn}'; it said: {await ShownTextAsync(page)}");
        }
    }

    /// <summary>What a page shows, in short, for a failure's message: where a sign-in stopped, and why if it says.</summary>
    static async Task<string> ShownTextAsync(IPage page)
    {
        try
        {
            var text = await page.Locator("body").InnerTextAsync(new() { Timeout = 5_000 });
            return text.Length > 600 ? text[..600] + "…" : text;
        }
        catch (PlaywrightException e)
        {
            return $"(nothing readable: {e.Message.Split('\n')[0]})";
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        _mesh?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by the stopped process: the temp directory is cleaned up by the OS.
        }
    }

    /// <summary>
    /// Where a screenshot goes: docs/console's are refreshed on request (KETENMESH_CONSOLE_SCREENSHOTS=docs/console), so a
    /// test run does not rewrite tracked files; otherwise next to the test's output.
    /// </summary>
    public static string ScreenshotPath(string name)
    {
        var screenshots = Environment.GetEnvironmentVariable("KETENMESH_CONSOLE_SCREENSHOTS") is { Length: > 0 } asked
            ? Path.GetFullPath(asked, RepoRoot())
            : Path.Combine(AppContext.BaseDirectory, "console-screenshots");
        Directory.CreateDirectory(screenshots);
        return Path.Combine(screenshots, name);
    }

    public static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Ketenmesh.slnx")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("The tests run outside the repository.");
    }

    public static HttpClient Http2() => new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
}
