using Chain.Common.V1;
using Chain.Registry.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Mesh.Demo;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ketenmesh.OfficerConsole.Tests;

/// <summary>The console's audit pages for officers, and the Rapporteur's dashboard for its researcher, in chromium (issue 14).</summary>
public sealed class AuditAndDashboardTests(ConsoleMesh mesh) : IClassFixture<ConsoleMesh>
{
    static string Screenshot(string name) => ConsoleMesh.ScreenshotPath(name);

    async Task<(PartnerSession Police, PartnerSession CoMensha, GrpcChannel Gateway)> PartnersAsync(HttpClient http) =>
        (await PartnerSession.SignInAsync(http, mesh.Identity, mesh.DataDirectory, "police"),
         await PartnerSession.SignInAsync(http, mesh.Identity, mesh.DataDirectory, "comensha"),
         GrpcChannel.ForAddress(mesh.Gateway));

    /// <summary>Registers a person (CoMensha, under victim care) and answers their registration id: someone for the dashboard to count.</summary>
    internal static async Task<string> RegisterAsync(GrpcChannel gateway, PartnerSession comensha, string requestId) =>
        (await new VictimRegistry.VictimRegistryClient(gateway).RegisterVictimAsync(new RegisterVictimRequest
        {
            ClientRequestId = requestId,
            InitialStatus = VictimStatus.Possible,
            // A pseudonymous key of the person, as partners derive them (HMAC of a document number with the chain's key).
            LinkKeys =
            {
                new PersonLinkKey
                {
                    Kind = LinkKeyKind.TravelDocument,
                    KeyedHash = ByteString.CopyFrom(System.Security.Cryptography.HMACSHA256.HashData("console-test-key"u8, System.Text.Encoding.UTF8.GetBytes(requestId))),
                    KeyId = "console-test",
                },
            },
        }, comensha.For("victim_care"))).Registration.RegistrationId;

    [Fact]
    public async Task An_audit_search_finds_the_partners_call_and_the_csv_export_holds_it()
    {
        using var http = ConsoleMesh.Http2();
        var (police, _, gateway) = await PartnersAsync(http);
        using var _ = gateway;
        // A call no other test makes: the police reading a registration that does not exist, under its investigation grant.
        var missing = "reg-audit-" + Guid.NewGuid().ToString("N")[..12];
        var notFound = await Assert.ThrowsAsync<RpcException>(async () =>
            await new VictimRegistry.VictimRegistryClient(gateway).GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = missing }, police.For("criminal_investigation")));
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);

        var officer = await mesh.SignInAsync("privacy-officer-1");
        await officer.GotoAsync("/Audit");
        await officer.GetByLabel("Partner", new() { Exact = true }).FillAsync("police");
        await officer.GetByLabel("Purpose", new() { Exact = true }).FillAsync("criminal_investigation");
        await officer.GetByLabel("Method", new() { Exact = true }).SelectOptionAsync("chain.registry.v1.VictimRegistry/GetRegistration");
        await officer.GetByLabel("Outcome", new() { Exact = true }).SelectOptionAsync("allowed");
        await officer.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();

        var row = officer.Locator("tbody tr", new() { HasTextString = missing });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("police");
        await Expect(row).ToContainTextAsync("allowed");
        await Axe.AssertLabelledAndAccessibleAsync(officer, officer.Url);

        var download = await officer.RunAndWaitForDownloadAsync(() => officer.GetByRole(AriaRole.Link, new() { Name = "Export every match as CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.StartsWith("sequence,time,partner,purpose,method,outcome", csv);
        var line = Assert.Single(csv.Split("\r\n"), l => l.Contains(missing, StringComparison.Ordinal));
        Assert.Contains(",police,criminal_investigation,chain.registry.v1.VictimRegistry/GetRegistration,allowed,", line);
        await officer.Context.CloseAsync();
    }

    const string GetRegistration = "chain.registry.v1.VictimRegistry/GetRegistration";

    /// <summary>
    /// A call no other test makes: <paramref name="partner"/> reading a registration that does not exist under its
    /// investigation grant (allowed, then NOT_FOUND). Its id, in the record's subject, marks the call's row.
    /// </summary>
    static async Task<string> ReadAMissingRegistrationAsync(GrpcChannel gateway, PartnerSession partner)
    {
        var missing = "reg-search-" + Guid.NewGuid().ToString("N")[..12];
        var notFound = await Assert.ThrowsAsync<RpcException>(async () =>
            await new VictimRegistry.VictimRegistryClient(gateway).GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = missing }, partner.For("criminal_investigation")));
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        return missing;
    }

    /// <summary>The audit page for a search given as its query string; the rows it shows.</summary>
    static async Task<ILocator> SearchAsync(IPage officer, string query)
    {
        await officer.GotoAsync("/Audit?" + query);
        // The export link is shown only when the search answered: no rows because the search failed would prove nothing.
        await Expect(officer.GetByRole(AriaRole.Link, new() { Name = "Export every match as CSV" })).ToBeVisibleAsync();
        return officer.Locator("tbody tr");
    }

    [Fact]
    public async Task An_audit_search_for_denied_calls_leaves_out_the_allowed_one()
    {
        using var http = ConsoleMesh.Http2();
        // The prosecution: a partner no other test here calls with, so its rows are this test's.
        var prosecution = await PartnerSession.SignInAsync(http, mesh.Identity, mesh.DataDirectory, "prosecution");
        using var gateway = GrpcChannel.ForAddress(mesh.Gateway);
        var missing = await ReadAMissingRegistrationAsync(gateway, prosecution);
        // The same method under a purpose the prosecution has no grant for: refused, and on record as denied.
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await new VictimRegistry.VictimRegistryClient(gateway).GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = missing }, prosecution.For("victim_care")));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);

        var officer = await mesh.SignInAsync("privacy-officer-1");
        var denied = await SearchAsync(officer, $"partner=prosecution&method={Uri.EscapeDataString(GetRegistration)}&outcome=denied");
        await Expect(denied.Filter(new() { HasTextString = "victim_care" }).First).ToContainTextAsync("denied");
        await Expect(denied.Filter(new() { HasTextString = missing })).ToHaveCountAsync(0);
        Assert.All(await denied.Locator("td:nth-child(6)").AllTextContentsAsync(), outcome => Assert.Equal("denied", outcome));

        // And the other way round: allowed calls only, the refusal left out.
        var allowed = await SearchAsync(officer, $"partner=prosecution&method={Uri.EscapeDataString(GetRegistration)}&outcome=allowed");
        await Expect(allowed.Filter(new() { HasTextString = missing })).ToHaveCountAsync(1);
        await Expect(allowed.Filter(new() { HasTextString = "victim_care" })).ToHaveCountAsync(0);
        Assert.All(await allowed.Locator("td:nth-child(6)").AllTextContentsAsync(), outcome => Assert.Equal("allowed", outcome));
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task An_audit_search_for_another_partner_purpose_or_method_leaves_out_the_call()
    {
        using var http = ConsoleMesh.Http2();
        var (police, _, gateway) = await PartnersAsync(http);
        using var _ = gateway;
        var missing = await ReadAMissingRegistrationAsync(gateway, police);

        var officer = await mesh.SignInAsync("privacy-officer-1");
        var call = new Dictionary<string, string> { ["partner"] = "police", ["purpose"] = "criminal_investigation", ["method"] = GetRegistration };
        string Query(IReadOnlyDictionary<string, string> filters) => string.Join('&', filters.Select(f => $"{f.Key}={Uri.EscapeDataString(f.Value)}"));
        // Every filter naming the call finds it: each search below differs from this one in one filter only.
        await Expect((await SearchAsync(officer, Query(call))).Filter(new() { HasTextString = missing })).ToHaveCountAsync(1);
        foreach (var (filter, other) in new[] { ("partner", "comensha"), ("purpose", "victim_care"), ("method", "chain.registry.v1.VictimRegistry/FindByLinkKeys") })
        {
            var rows = await SearchAsync(officer, Query(new Dictionary<string, string>(call) { [filter] = other }));
            await Expect(rows.Filter(new() { HasTextString = missing })).ToHaveCountAsync(0);
        }
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task An_audit_search_over_a_past_time_window_leaves_out_the_call_a_window_around_now_finds()
    {
        using var http = ConsoleMesh.Http2();
        var (police, _, gateway) = await PartnersAsync(http);
        using var _ = gateway;
        var missing = await ReadAMissingRegistrationAsync(gateway, police);
        var now = DateTime.UtcNow;

        var officer = await mesh.SignInAsync("privacy-officer-2");
        async Task<ILocator> SearchBetweenAsync(DateTime from, DateTime until)
        {
            // Through the form's own date and time fields, as an officer types them (UTC, to the minute).
            await officer.GotoAsync("/Audit");
            await officer.GetByLabel("Partner", new() { Exact = true }).FillAsync("police");
            await officer.GetByLabel("From (UTC)").FillAsync(from.ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
            await officer.GetByLabel("Until (UTC)").FillAsync(until.ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
            await officer.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
            await officer.WaitForURLAsync(url => url.Contains("from=" + Uri.EscapeDataString(from.ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture)), StringComparison.Ordinal));
            await Expect(officer.GetByRole(AriaRole.Link, new() { Name = "Export every match as CSV" })).ToBeVisibleAsync();
            return officer.Locator("tbody tr", new() { HasTextString = missing });
        }

        await Expect(await SearchBetweenAsync(now.AddMinutes(-10), now.AddMinutes(10))).ToHaveCountAsync(1);
        // A window that closed before the call, and one that opens after it.
        await Expect(await SearchBetweenAsync(now.AddDays(-2), now.AddDays(-1))).ToHaveCountAsync(0);
        await Expect(await SearchBetweenAsync(now.AddMinutes(10), now.AddMinutes(20))).ToHaveCountAsync(0);
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task The_officer_sees_which_accesses_the_subjects_report_withholds_and_the_csv_says_so()
    {
        using var http = ConsoleMesh.Http2();
        var (police, comensha, gateway) = await PartnersAsync(http);
        using var _ = gateway;
        var registration = await RegisterAsync(gateway, comensha, "dsar-" + Guid.NewGuid().ToString("N")[..12]);
        // The police's read is under an investigation grant (confidential): the person is not shown it until it is released.
        await new VictimRegistry.VictimRegistryClient(gateway).GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = registration }, police.For("criminal_investigation"));

        var officer = await mesh.SignInAsync("privacy-officer-2");
        await officer.GotoAsync("/Subject");
        await officer.GetByLabel("Subject").FillAsync($"registration_id:{registration}");
        await officer.GetByRole(AriaRole.Button, new() { Name = "Show the report" }).ClickAsync();

        var withheld = officer.Locator("tbody tr", new() { HasTextString = "police" });
        await Expect(withheld).ToHaveCountAsync(1);
        await Expect(withheld).ToContainTextAsync("No: withheld (confidential investigation)");
        await Expect(officer.Locator("tbody tr", new() { HasTextString = "comensha" }).First).ToContainTextAsync("Yes");
        await Expect(officer.GetByText("1 withheld from the subject")).ToBeVisibleAsync();
        await Axe.AssertLabelledAndAccessibleAsync(officer, officer.Url);

        var download = await officer.RunAndWaitForDownloadAsync(() => officer.GetByRole(AriaRole.Link, new() { Name = "Export as CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.Contains(",police,criminal_investigation,chain.registry.v1.VictimRegistry/GetRegistration,allowed,no: withheld (confidential investigation)", csv);
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task Verifying_the_chain_says_it_is_intact_and_names_the_last_signed_checkpoint()
    {
        var officer = await mesh.SignInAsync("privacy-officer-1");
        await officer.GotoAsync("/Verify");
        await officer.GetByRole(AriaRole.Button, new() { Name = "Verify the chain" }).ClickAsync();

        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("The chain is intact");
        await Expect(officer.GetByRole(AriaRole.Heading, new() { Name = "Last signed checkpoint" })).ToBeVisibleAsync();
        await Axe.AssertLabelledAndAccessibleAsync(officer, officer.Url);
        await officer.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("verify.png") });
        await officer.Context.CloseAsync();
    }

    /// <summary>
    /// Verifies the chain until the page names a signed checkpoint: the gateway signs one after every second record
    /// (the fixture's setting), and each verification is a record, so a fresh mesh has one by the second or third.
    /// </summary>
    static async Task<IPage> UntilACheckpointIsShownAsync(IPage officer)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await officer.GotoAsync("/Verify");
            await officer.GetByRole(AriaRole.Button, new() { Name = "Verify the chain" }).ClickAsync();
            var none = officer.GetByText("No checkpoint has been signed yet.");
            var details = officer.Locator("dl");
            await Expect(none.Or(details)).ToBeVisibleAsync();
            if (await details.CountAsync() == 1)
            {
                return officer;
            }
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), "No signed checkpoint after 30 s of verifying.");
        }
    }

    /// <summary>The id of the key the gateway signs checkpoints with, from its key file in the mesh's data directory.</summary>
    string GatewayCheckpointKeyId()
    {
        using var signer = Ketenmesh.Audit.Chain.CheckpointSigner.OpenOrCreate(Path.Combine(mesh.DataDirectory, "audit-checkpoint-key.pkcs8"));
        return signer.KeyId;
    }

    [Fact]
    public async Task The_verify_page_shows_the_last_signed_checkpoints_record_time_head_hash_and_the_gateways_key()
    {
        var officer = await UntilACheckpointIsShownAsync(await mesh.SignInAsync("privacy-officer-2"));
        var status = await officer.GetByRole(AriaRole.Status).InnerTextAsync();
        // The page writes counts with group separators ("1,234").
        var intact = System.Text.RegularExpressions.Regex.Match(status, @"The chain is intact: ([0-9,.]+) records from record 1 on and ([0-9,.]+) signed checkpoints? checked");
        Assert.True(intact.Success, status);
        static long Count(string text) => long.Parse(new string([.. text.Where(char.IsAsciiDigit)]), System.Globalization.CultureInfo.InvariantCulture);
        var records = Count(intact.Groups[1].Value);
        Assert.True(Count(intact.Groups[2].Value) >= 1, status);

        async Task<string> Detail(string term) => (await officer.Locator($"xpath=//dt[normalize-space()='{term}']/following-sibling::dd[1]").InnerTextAsync()).Trim();
        var record = long.Parse(await Detail("Record"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(record, 1, records);
        var signedAt = DateTimeOffset.ParseExact(await Detail("Signed at (UTC)"), "yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
        // Signed by this mesh, started for this test class: minutes ago at most, never in the future.
        Assert.InRange(signedAt, DateTimeOffset.UtcNow.AddMinutes(-30), DateTimeOffset.UtcNow.AddSeconds(5));
        Assert.Matches("^[0-9a-f]{64}$", await Detail("Head hash"));
        Assert.Equal(GatewayCheckpointKeyId(), await Detail("Key"));
        Assert.Equal("verifies with the gateway's checkpoint key", await Detail("Signature"));
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task The_verification_exported_as_csv_says_intact_and_names_the_last_signed_checkpoint()
    {
        var officer = await UntilACheckpointIsShownAsync(await mesh.SignInAsync("privacy-officer-1"));
        var download = await officer.RunAndWaitForDownloadAsync(() => officer.GetByRole(AriaRole.Button, new() { Name = "Verify and export the result as CSV" }).ClickAsync());
        var lines = (await File.ReadAllTextAsync((await download.PathAsync())!)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal("verified at,from record,records checked,checkpoints checked,outcome,last checkpoint record,last checkpoint signed at,last checkpoint head hash,last checkpoint key,last checkpoint signature", lines[0]);
        var fields = lines[1].Split(',');
        Assert.Equal(10, fields.Length);
        Assert.Equal("1", fields[1]);
        Assert.True(long.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture) >= long.Parse(fields[5], System.Globalization.CultureInfo.InvariantCulture), lines[1]);
        Assert.True(int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture) >= 1, lines[1]);
        Assert.Equal("intact", fields[4]);
        Assert.Matches("^[0-9a-f]{64}$", fields[7]);
        Assert.Equal(GatewayCheckpointKeyId(), fields[8]);
        Assert.Equal("verifies", fields[9]);
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task The_dashboard_shows_a_withheld_cell_as_withheld_never_as_zero()
    {
        using var http = ConsoleMesh.Http2();
        var (_, comensha, gateway) = await PartnersAsync(http);
        using var _ = gateway;
        // One person this year: every figure about them is under 5, so withheld.
        await RegisterAsync(gateway, comensha, "stats-" + Guid.NewGuid().ToString("N")[..12]);

        var researcher = await mesh.SignInAsResearcherAsync("rapporteur-researcher-1");

        var forms = researcher.GetByRole(AriaRole.Table, new() { Name = "Form of exploitation by registration year" });
        var thisYear = forms.Locator("tbody tr", new() { HasTextString = DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await Expect(thisYear.Locator("td.withheld").First).ToHaveTextAsync("withheld");
        await Expect(thisYear.Locator("td", new() { HasTextString = "0" })).ToHaveCountAsync(0);
        // The chart says so too, in each withheld bar's own title, and never draws it as a bar of zero.
        var chart = await researcher.Locator("#chart-form-title").Locator("xpath=..").InnerHTMLAsync();
        var year = DateTime.UtcNow.Year;
        Assert.Matches($"<title>{year}, [^<]*: withheld</title>", chart);
        Assert.DoesNotMatch($"<title>{year}, [^<]*: 0</title>", chart);
        await Axe.AssertLabelledAndAccessibleAsync(researcher, researcher.Url);
        await researcher.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard.png"), FullPage = false });

        // A researcher has no officer's pages; an officer is told the statistics are the Rapporteur's.
        await researcher.GotoAsync("/Matrix");
        await Expect(researcher.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("privacy officers");
        await researcher.Context.CloseAsync();
        var officer = await mesh.SignInAsync("privacy-officer-1");
        await officer.GotoAsync("/Dashboard");
        await Expect(officer.GetByRole(AriaRole.Alert)).ToContainTextAsync("The statistics are the National Rapporteur's to read");
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task The_dashboard_shows_each_breakdown_by_year_as_a_chart_and_as_a_table()
    {
        using var http = ConsoleMesh.Http2();
        var (_, comensha, gateway) = await PartnersAsync(http);
        using var _ = gateway;
        // Someone registered this year, so every breakdown has a year to show.
        await RegisterAsync(gateway, comensha, "breakdowns-" + Guid.NewGuid().ToString("N")[..12]);
        var year = DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var researcher = await mesh.SignInAsResearcherAsync("rapporteur-researcher-1");
        foreach (var title in new[] { "Form of exploitation", "Minors", "Nationality", "Sector" })
        {
            var section = researcher.GetByRole(AriaRole.Region, new() { Name = title, Exact = true });
            // The chart: an image to assistive technology, named after its breakdown, with a bar (or withheld stub) for this year.
            var chart = section.GetByRole(AriaRole.Img);
            await Expect(chart).ToHaveCountAsync(1);
            await Expect(chart).ToHaveAccessibleNameAsync(new System.Text.RegularExpressions.Regex($"^{title} by registration year"));
            Assert.Contains($"<title>{year}, ", await chart.InnerHTMLAsync(), StringComparison.Ordinal);
            // The table: the same figures, this year's row with one figure per category.
            var table = section.GetByRole(AriaRole.Table, new() { Name = $"{title} by registration year", Exact = true });
            await Expect(table).ToHaveCountAsync(1);
            var thisYear = table.Locator("tbody tr", new() { Has = researcher.GetByRole(AriaRole.Rowheader, new() { Name = year, Exact = true }) });
            await Expect(thisYear).ToHaveCountAsync(1);
            await Expect(thisYear.Locator("td")).ToHaveCountAsync(await table.Locator("thead th").CountAsync() - 1);
        }
        await researcher.Context.CloseAsync();
    }
}
