using System.Diagnostics;
using Chain.Risk.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Mesh.Demo;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ketenmesh.OfficerConsole.Tests;

/// <summary>The privacy officers' console in chromium against a running embedded mesh (issue 14).</summary>
public sealed class ConsoleTests(ConsoleMesh mesh) : IClassFixture<ConsoleMesh>
{
    const string ListRuleSets = "chain.risk.v1.RiskAssessment/ListRuleSets";

    /// <summary>A grant no default policy has: the partner (coa unless named) may list the risk rule sets, their version and state only.</summary>
    async Task DraftRuleSetGrantAsync(IPage page, string grantId, string partner = "coa")
    {
        await page.GotoAsync($"/Editor?method={Uri.EscapeDataString(ListRuleSets)}");
        await page.GetByLabel("Grant id", new() { Exact = true }).FillAsync(grantId);
        await page.GetByLabel("Partner", new() { Exact = true }).FillAsync(partner);
        await page.GetByLabel("Purpose", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "signalling" });
        await page.GetByLabel("Legal basis", new() { Exact = true }).FillAsync("Art. 6(1)(e) AVG; convenant mensenhandel");
        await page.GetByLabel("Covenant reference", new() { Exact = true }).FillAsync("CONV-2026-TEST");
        // Ticking fields of a repeated, nested message: rule_sets[].version and rule_sets[].state.
        await page.Locator("#field-rule_sets-version").CheckAsync();
        await page.Locator("#field-rule_sets-state").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save as draft" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Drafted version");
    }

    async Task<ListRuleSetsResponse> ListRuleSetsAsCoaAsync(GrpcChannel gateway, PartnerSession coa) =>
        await new RiskAssessment.RiskAssessmentClient(gateway).ListRuleSetsAsync(new ListRuleSetsRequest(), coa.For("signalling"));

    /// <summary>
    /// Calls until the partner gets the outcome a publication brings (the answer, or null for PERMISSION_DENIED),
    /// giving up 2 s after the publication: the gateway applies one within 2 s. Polls, no fixed wait.
    /// </summary>
    static async Task<(ListRuleSetsResponse? Answer, TimeSpan After)> AfterPublicationAsync(Stopwatch published, Func<Task<ListRuleSetsResponse>> call, bool refused)
    {
        while (true)
        {
            ListRuleSetsResponse? answer;
            try
            {
                answer = await call();
            }
            catch (RpcException denied) when (denied.StatusCode == StatusCode.PermissionDenied)
            {
                answer = null;
            }

            if ((answer is null) == refused || published.Elapsed >= TimeSpan.FromSeconds(2))
            {
                return (answer, published.Elapsed);
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Officer 2 approves the partner's draft and publishes it: the publication's clock starts.</summary>
    static async Task<Stopwatch> ApproveAndPublishAsync(IPage officer2, string grantId)
    {
        await officer2.GotoAsync($"/Grant?id={grantId}");
        await officer2.Locator("button", new() { HasTextString = "Approve" }).ClickAsync();
        await Expect(officer2.GetByRole(AriaRole.Status)).ToContainTextAsync("approved by privacy-officer-2 (drafted by privacy-officer-1)");
        // The 2 s count from the officer's click.
        var published = Stopwatch.StartNew();
        await officer2.Locator("tbody button", new() { HasTextString = "Publish" }).ClickAsync();
        await Expect(officer2.GetByRole(AriaRole.Status)).ToContainTextAsync("Published");
        return published;
    }

    [Fact]
    public async Task Officer_1_drafts_by_ticking_fields_officer_2_approves_and_publishes_and_the_partner_gets_only_the_ticked_fields_within_2_s()
    {
        using var http = ConsoleMesh.Http2();
        var coa = await PartnerSession.SignInAsync(http, mesh.Identity, mesh.DataDirectory, "coa");
        using var gateway = GrpcChannel.ForAddress(mesh.Gateway);
        var before = await Assert.ThrowsAsync<RpcException>(() => ListRuleSetsAsCoaAsync(gateway, coa));
        Assert.Equal(StatusCode.PermissionDenied, before.StatusCode);

        var officer1 = await mesh.SignInAsync("privacy-officer-1");
        await DraftRuleSetGrantAsync(officer1, "coa-rule-sets");
        await officer1.Context.CloseAsync();

        var officer2 = await mesh.SignInAsync("privacy-officer-2");
        var published = await ApproveAndPublishAsync(officer2, "coa-rule-sets");
        // Whose four eyes: the versions table names both officers.
        var row = officer2.Locator("tbody tr").First;
        await Expect(row).ToContainTextAsync("privacy-officer-1");
        await Expect(row).ToContainTextAsync("privacy-officer-2");

        var (opened, after) = await AfterPublicationAsync(published, () => ListRuleSetsAsCoaAsync(gateway, coa), refused: false);
        var answer = opened ?? throw new Xunit.Sdk.XunitException($"still refused {after} after publishing");
        Assert.NotEmpty(answer.RuleSets);
        Assert.All(answer.RuleSets, set =>
        {
            Assert.NotEmpty(set.Version);
            Assert.NotEqual(RuleSetState.Unspecified, set.State);
            // Everything not ticked was removed by the gateway.
            Assert.Empty(set.Rules);
            Assert.Empty(set.BandThresholds);
            Assert.Null(set.ActivatedAt);
            Assert.Empty(set.ChangeNote);
        });
        Assert.Empty(answer.NextPageToken);
        await officer2.Context.CloseAsync();
    }

    [Fact]
    public async Task The_diff_between_two_versions_shows_the_field_a_new_version_adds()
    {
        var officer = await mesh.SignInAsync("privacy-officer-1");
        var method = GetRegistration;
        // A new version of the seeded grant, starting from it: one more field ticked.
        await officer.GotoAsync($"/Editor?grant=nidos-victim-care&method={Uri.EscapeDataString(method)}");
        await Expect(officer.GetByLabel("Partner", new() { Exact = true })).ToHaveValueAsync("nidos");
        await officer.Locator("#field-registration-person-sex").CheckAsync();
        await officer.GetByRole(AriaRole.Button, new() { Name = "Save as draft" }).ClickAsync();
        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("Drafted version");

        await officer.GotoAsync("/Grant?id=nidos-victim-care");
        var versions = officer.Locator("tbody tr");
        await Expect(versions).ToHaveCountAsync(2);
        var published = await officer.Locator("#from option", new() { HasTextString = "(published)" }).GetAttributeAsync("value");
        var draft = await officer.Locator("#to option", new() { HasTextString = "(draft)" }).GetAttributeAsync("value");
        await officer.GetByLabel("Older").SelectOptionAsync(published!);
        await officer.GetByLabel("Newer").SelectOptionAsync(draft!);
        await officer.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        // One line changed: the method's mask, now with the ticked field.
        await Expect(officer.Locator("pre .added")).ToHaveCountAsync(1);
        await Expect(officer.Locator("pre .added")).ToContainTextAsync("registration.person.sex");
        await Expect(officer.Locator("pre .deleted")).ToHaveCountAsync(1);
        await Expect(officer.Locator("pre .deleted")).Not.ToContainTextAsync("registration.person.sex");
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task A_grant_revoked_and_published_in_the_console_refuses_the_partner_again_within_2_s()
    {
        using var http = ConsoleMesh.Http2();
        var municipality = await PartnerSession.SignInAsync(http, mesh.Identity, mesh.DataDirectory, "municipality");
        using var gateway = GrpcChannel.ForAddress(mesh.Gateway);
        Task<ListRuleSetsResponse> Call() => ListRuleSetsAsCoaAsync(gateway, municipality);
        var before = await Assert.ThrowsAsync<RpcException>(Call);
        Assert.Equal(StatusCode.PermissionDenied, before.StatusCode);

        var officer1 = await mesh.SignInAsync("privacy-officer-1");
        await DraftRuleSetGrantAsync(officer1, "municipality-rule-sets", "municipality");
        // The simulation gives the decision and reason the gateway gave the partner's call.
        await officer1.GotoAsync($"/Simulate?partner=municipality&purpose=1&method={Uri.EscapeDataString(ListRuleSets)}");
        await Expect(officer1.Locator("#decision")).ToHaveTextAsync("denied");
        await Expect(officer1.Locator("#reason")).ToHaveTextAsync(before.Status.Detail);
        await officer1.Context.CloseAsync();

        var officer2 = await mesh.SignInAsync("privacy-officer-2");
        var (opened, openedAfter) = await AfterPublicationAsync(await ApproveAndPublishAsync(officer2, "municipality-rule-sets"), Call, refused: false);
        Assert.True(opened is not null, $"still refused {openedAfter} after publishing");

        await officer2.GetByLabel("Reason for revoking municipality-rule-sets").FillAsync("Covenant ended");
        await officer2.GetByRole(AriaRole.Button, new() { Name = "Revoke the grant" }).ClickAsync();
        await Expect(officer2.GetByRole(AriaRole.Status)).ToContainTextAsync("is revoked. Publish the policy");
        // Whose revocation and why, in the versions table.
        await Expect(officer2.Locator("tbody tr").First).ToContainTextAsync("privacy-officer-2 Covenant ended");
        var revocationPublished = Stopwatch.StartNew();
        await officer2.GetByRole(AriaRole.Button, new() { Name = "Publish the policy", Exact = true }).ClickAsync();
        await Expect(officer2.GetByRole(AriaRole.Status)).ToContainTextAsync("Published");
        var (closed, closedAfter) = await AfterPublicationAsync(revocationPublished, Call, refused: true);
        Assert.True(closed is null, $"still answered {closedAfter} after publishing the revocation");
        await officer2.Context.CloseAsync();
    }

    [Fact]
    public async Task Everything_else_a_grant_holds_is_saved_by_the_editor_and_shown_again()
    {
        var officer = await mesh.SignInAsync("privacy-officer-1");
        await officer.GotoAsync($"/Editor?method={Uri.EscapeDataString(ListRuleSets)}");
        await officer.GetByLabel("Grant id", new() { Exact = true }).FillAsync("riec-everything");
        await officer.GetByLabel("Partner", new() { Exact = true }).FillAsync("riec");
        await officer.GetByLabel("Purpose", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "administrative_enforcement" });
        await officer.GetByLabel("Legal basis", new() { Exact = true }).FillAsync("Wet Bibob art. 7");
        await officer.GetByLabel("Covenant reference", new() { Exact = true }).FillAsync("RIEC-convenant 2021");
        await officer.GetByLabel("Valid from", new() { Exact = true }).FillAsync("2026-01-01");
        await officer.GetByLabel("Valid until (empty: no end)").FillAsync("2030-12-31");
        await officer.GetByLabel("Confidential", new() { Exact = true }).CheckAsync();
        await officer.GetByLabel("Requires a certificate-bound token").CheckAsync();
        // A request precondition: the partner must say how many rule sets it wants.
        await officer.Locator("#required-page_size").CheckAsync();
        await officer.Locator("#field-rule_sets-version").CheckAsync();
        await officer.GetByRole(AriaRole.Button, new() { Name = "Save as draft" }).ClickAsync();
        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("Drafted version");

        // Opened again, the editor shows what the policy service stored.
        await officer.GotoAsync($"/Editor?grant=riec-everything&method={Uri.EscapeDataString(ListRuleSets)}");
        await Expect(officer.GetByLabel("Partner", new() { Exact = true })).ToHaveValueAsync("riec");
        await Expect(officer.GetByLabel("Purpose", new() { Exact = true })).ToHaveValueAsync("3");
        await Expect(officer.GetByLabel("Legal basis", new() { Exact = true })).ToHaveValueAsync("Wet Bibob art. 7");
        await Expect(officer.GetByLabel("Covenant reference", new() { Exact = true })).ToHaveValueAsync("RIEC-convenant 2021");
        await Expect(officer.GetByLabel("Valid from", new() { Exact = true })).ToHaveValueAsync("2026-01-01");
        await Expect(officer.GetByLabel("Valid until (empty: no end)")).ToHaveValueAsync("2030-12-31");
        await Expect(officer.GetByLabel("Confidential", new() { Exact = true })).ToBeCheckedAsync();
        await Expect(officer.GetByLabel("Requires a certificate-bound token")).ToBeCheckedAsync();
        await Expect(officer.Locator("#required-page_size")).ToBeCheckedAsync();
        await Expect(officer.Locator("#required-page_token")).Not.ToBeCheckedAsync();
        await Expect(officer.Locator("#field-rule_sets-version")).ToBeCheckedAsync();
        await Expect(officer.Locator("#field-rule_sets-state")).Not.ToBeCheckedAsync();
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task A_draft_that_ends_before_it_begins_is_refused_in_the_editors_words()
    {
        var officer = await mesh.SignInAsync("privacy-officer-1");
        await officer.GotoAsync($"/Editor?method={Uri.EscapeDataString(ListRuleSets)}");
        await officer.GetByLabel("Grant id", new() { Exact = true }).FillAsync("coa-backwards");
        await officer.GetByLabel("Partner", new() { Exact = true }).FillAsync("coa");
        await officer.GetByLabel("Legal basis", new() { Exact = true }).FillAsync("Art. 6(1)(e) AVG");
        await officer.GetByLabel("Valid from", new() { Exact = true }).FillAsync("2027-06-01");
        await officer.GetByLabel("Valid until (empty: no end)").FillAsync("2027-01-01");
        await officer.Locator("#field-rule_sets-version").CheckAsync();
        await officer.GetByRole(AriaRole.Button, new() { Name = "Save as draft" }).ClickAsync();
        await Expect(officer.GetByRole(AriaRole.Alert)).ToContainTextAsync("Valid until: must be after valid from");
        await Expect(officer.GetByRole(AriaRole.Alert)).Not.ToContainTextAsync("grant.valid_until");
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task A_newcomer_who_opens_the_console_at_localhost_signs_in_there()
    {
        // The mesh prints 127.0.0.1; a newcomer may type localhost, and the browser sends the host it was given.
        var localhost = new UriBuilder(mesh.Console) { Host = "localhost" }.Uri;
        var officer = await mesh.SignInAsync("privacy-officer-1", localhost);
        await Expect(officer.GetByRole(AriaRole.Link, new() { Name = "police-criminal-investigation" }).First).ToBeVisibleAsync();
        Assert.StartsWith(localhost.GetLeftPart(UriPartial.Authority), officer.Url);
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task A_method_added_in_one_draft_leaves_the_grant_when_unticked_in_the_next()
    {
        const string GetAssessment = "chain.risk.v1.RiskAssessment/GetAssessment";
        var officer = await mesh.SignInAsync("privacy-officer-1");
        await DraftRuleSetGrantAsync(officer, "coa-two-methods");
        // A second method, added to the grant by drafting it from the grant's latest version.
        await officer.GotoAsync($"/Editor?grant=coa-two-methods&method={Uri.EscapeDataString(GetAssessment)}");
        var keep = officer.GetByLabel($"Keep {ListRuleSets}");
        await Expect(keep).ToBeCheckedAsync();
        await officer.Locator("ul.tree input").First.CheckAsync();
        await officer.GetByRole(AriaRole.Button, new() { Name = "Save as draft" }).ClickAsync();
        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("Drafted version");

        // The next version takes ListRuleSets out: unticked, it leaves; GetAssessment stays. A refused first try
        // (it would end before it begins) shows the box as the officer left it, so the second try does not bring it back.
        await officer.GotoAsync($"/Editor?grant=coa-two-methods&method={Uri.EscapeDataString(GetAssessment)}");
        await Expect(officer.Locator("ul.tree input").First).ToBeCheckedAsync();
        await officer.GetByLabel($"Keep {ListRuleSets}").UncheckAsync();
        await officer.GetByLabel("Valid until (empty: no end)").FillAsync("2000-01-01");
        await officer.GetByRole(AriaRole.Button, new() { Name = "Save as draft" }).ClickAsync();
        await Expect(officer.GetByRole(AriaRole.Alert)).ToContainTextAsync("Valid until");
        await Expect(officer.GetByLabel($"Keep {ListRuleSets}")).Not.ToBeCheckedAsync();
        await officer.GetByLabel("Valid until (empty: no end)").FillAsync("");
        await officer.GetByRole(AriaRole.Button, new() { Name = "Save as draft" }).ClickAsync();
        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("Drafted version");

        await officer.GotoAsync("/Grant?id=coa-two-methods");
        var versions = officer.Locator("tbody tr");
        await Expect(versions).ToHaveCountAsync(3);
        await Expect(versions.Nth(1).Locator("td ul li")).ToHaveCountAsync(2);
        var last = versions.Nth(2).Locator("td ul li");
        await Expect(last).ToHaveCountAsync(1);
        await Expect(last).ToContainTextAsync(GetAssessment);
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task Officer_1_alone_cannot_publish_their_own_draft()
    {
        var officer1 = await mesh.SignInAsync("privacy-officer-1");
        await DraftRuleSetGrantAsync(officer1, "coa-rule-sets-alone");
        await officer1.GotoAsync("/Grant?id=coa-rule-sets-alone");
        await officer1.Locator("tbody button", new() { HasTextString = "Publish" }).ClickAsync();
        await Expect(officer1.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Your draft needs a second officer's approval before it can be published.");
        // Nor approve it: four eyes.
        await officer1.Locator("button", new() { HasTextString = "Approve" }).ClickAsync();
        await Expect(officer1.GetByRole(AriaRole.Alert)).ToContainTextAsync("a second privacy officer must approve it");
        await Expect(officer1.Locator("tbody tr").First).ToContainTextAsync("draft");
        await officer1.Context.CloseAsync();
    }

    [Fact]
    public async Task The_simulation_shows_the_fields_the_mask_removes()
    {
        var officer = await mesh.SignInAsync("privacy-officer-1");
        await officer.GotoAsync("/Simulate");
        await officer.GetByLabel("Partner").FillAsync("care");
        await officer.GetByLabel("Purpose").SelectOptionAsync(new SelectOptionValue { Label = "victim_care" });
        await officer.GetByLabel("Method").SelectOptionAsync(GetRegistration);
        await officer.GetByRole(AriaRole.Button, new() { Name = "Simulate" }).ClickAsync();
        await Expect(officer.Locator("#decision")).ToHaveTextAsync("allowed");
        await Expect(officer.Locator("#reason")).Not.ToBeEmptyAsync();
        // The default policy gives care the status but not the person's nationalities.
        await Expect(officer.Locator("tr[data-field='registration.status'] td").Nth(1)).ToHaveTextAsync("kept");
        await Expect(officer.Locator("tr[data-field='registration.person.nationalities'] td").Nth(1)).ToHaveTextAsync("removed");
        await Expect(officer.Locator("tr[data-field='registration.person.nationalities'] td.removed")).ToHaveCountAsync(1);
        // Side by side: the whole sample holds the removed field, the partner's copy does not.
        await Expect(officer.Locator("section[aria-labelledby='whole-heading'] pre")).ToContainTextAsync("nationalities");
        await Expect(officer.Locator("section[aria-labelledby='partner-heading'] pre")).Not.ToContainTextAsync("nationalities");
        await Expect(officer.Locator("section[aria-labelledby='partner-heading'] pre")).ToContainTextAsync("status");
        await officer.Context.CloseAsync();
    }

    /// <summary>The row of a partner's table on the grants list that links to <paramref name="grantId"/>.</summary>
    static ILocator GrantRow(IPage page, string partner, string grantId) =>
        page.GetByRole(AriaRole.Table, new() { Name = $"Grants of {partner} by purpose", Exact = true })
            .Locator("tbody tr", new() { Has = page.GetByRole(AriaRole.Link, new() { Name = grantId, Exact = true }) });

    [Fact]
    public async Task The_grants_list_shows_a_seeded_grant_under_its_partner_and_purpose_and_its_filters_leave_out_the_others()
    {
        var officer = await mesh.SignInAsync("privacy-officer-2");
        await officer.GotoAsync("/");
        // Unfiltered: each seeded grant in its partner's table, on its purpose's row.
        await Expect(GrantRow(officer, "police", "police-criminal-investigation").Locator("td").First).ToHaveTextAsync("criminal_investigation");
        await Expect(GrantRow(officer, "care", "care-victim-care").Locator("td").First).ToHaveTextAsync("victim_care");

        // By partner: the police's grants only.
        await officer.GetByLabel("Partner", new() { Exact = true }).FillAsync("police");
        await officer.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await officer.WaitForURLAsync(url => url.Contains("partner=police", StringComparison.Ordinal));
        await Expect(GrantRow(officer, "police", "police-criminal-investigation")).ToHaveCountAsync(1);
        await Expect(officer.GetByRole(AriaRole.Link, new() { Name = "care-victim-care", Exact = true })).ToHaveCountAsync(0);
        await Expect(officer.GetByRole(AriaRole.Heading, new() { Level = 2 })).ToHaveTextAsync(["police"]);

        // By purpose: victim care's grants only, of every partner.
        await officer.GetByLabel("Partner", new() { Exact = true }).FillAsync("");
        await officer.GetByLabel("Purpose", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "victim_care" });
        await officer.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await officer.WaitForURLAsync(url => url.Contains("purpose=4", StringComparison.Ordinal));
        await Expect(GrantRow(officer, "care", "care-victim-care")).ToHaveCountAsync(1);
        await Expect(officer.GetByRole(AriaRole.Link, new() { Name = "police-criminal-investigation", Exact = true })).ToHaveCountAsync(0);
        Assert.All(await officer.Locator("tbody tr td:first-child").AllTextContentsAsync(), purpose => Assert.Equal("victim_care", purpose));
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task The_matrix_cell_of_a_partner_and_purpose_lists_the_methods_its_grant_opens_and_a_cell_without_a_grant_reads_none()
    {
        var officer = await mesh.SignInAsync("privacy-officer-2");
        await officer.GotoAsync("/Matrix");
        var purposes = (await officer.Locator("thead th").AllTextContentsAsync()).Select(h => h.Trim()).ToList();
        ILocator Cell(string partner, string purpose)
        {
            var column = purposes.IndexOf(purpose);
            Assert.True(column > 0, $"no column {purpose} in {string.Join(", ", purposes)}");
            // The row's first cell is its partner's header: the purposes' cells start after it.
            return officer.GetByRole(AriaRole.Row).Filter(new() { Has = officer.GetByRole(AriaRole.Rowheader, new() { Name = partner, Exact = true }) })
                .Locator("td").Nth(column - 1);
        }

        // care-victim-care opens GetRegistration and RequestPlacement; RegisterVictim is CoMensha's in that column, not care's.
        var care = Cell("care", "victim_care");
        await Expect(care).ToContainTextAsync("GetRegistration (registry)");
        await Expect(care).ToContainTextAsync("RequestPlacement (shelter)");
        await Expect(care).Not.ToContainTextAsync("RegisterVictim");
        await Expect(Cell("comensha", "victim_care")).ToContainTextAsync("RegisterVictim (registry)");
        // The police have no victim-care grant: their cell names no method.
        var none = Cell("police", "victim_care");
        await Expect(none).ToHaveTextAsync("none");
        await Expect(none.Locator("li")).ToHaveCountAsync(0);
        await officer.Context.CloseAsync();
    }

    [Fact]
    public async Task A_partners_token_gets_nothing_from_the_console()
    {
        using var h2 = ConsoleMesh.Http2();
        var police = await PartnerSession.SignInAsync(h2, mesh.Identity, mesh.DataDirectory, "police");
        var token = police.For("criminal_investigation").Headers!.GetValue("authorization")!;
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = mesh.Console };
        var pages = new[]
        {
            "/", "/Matrix", "/Grant?id=police-criminal-investigation", "/Simulate?partner=police&purpose=2&method=chain.registry.v1.VictimRegistry/GetRegistration", "/Editor",
            "/Audit?partner=police", "/Audit?handler=Csv&partner=police", "/Subject?pseudonym=registration_id%3Areg-1", "/Verify", "/Dashboard",
        };
        // Reads, and the writes too: publishing, revoking, drafting.
        var requests = pages.Select(path => (HttpMethod.Get, path)).Concat(
            [(HttpMethod.Post, "/Grant?handler=Publish&id=police-criminal-investigation"), (HttpMethod.Post, "/Grant?handler=Revoke&id=police-criminal-investigation"), (HttpMethod.Post, "/Editor")]);
        foreach (var (method, path) in requests)
        {
            using var request = new HttpRequestMessage(method, path);
            if (method == HttpMethod.Post)
            {
                request.Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["reason"] = "a partner's try", ["grant"] = "police-criminal-investigation" });
            }

            request.Headers.TryAddWithoutValidation("Authorization", token);
            using var response = await http.SendAsync(request);
            // Sent to sign in as an officer; no page, no policy.
            Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/connect/authorize", response.Headers.Location!.AbsolutePath);
            Assert.DoesNotContain("police-criminal-investigation", await response.Content.ReadAsStringAsync());
        }

        // Nor as a cookie: a token is not a session.
        using var forged = new HttpRequestMessage(HttpMethod.Get, "/");
        forged.Headers.TryAddWithoutValidation("Cookie", "ketenmesh-console=" + token["Bearer ".Length..]);
        using var refused = await http.SendAsync(forged);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, refused.StatusCode);
    }

    [Fact]
    public async Task No_other_site_may_frame_the_console_or_its_sign_in_page_and_no_referrer_leaves_it()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = mesh.Console };
        using var redirect = await http.GetAsync("/Grant?id=police-criminal-investigation");
        var officer = await mesh.SignInPageAsync();
        // The sign-in page is the identity's, fronted by the console: it carries the console's headers too.
        using var signIn = await http.GetAsync(new Uri(officer.Url).PathAndQuery);
        await officer.Context.CloseAsync();
        foreach (var response in new[] { redirect, signIn })
        {
            Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        }

        Assert.Equal(System.Net.HttpStatusCode.OK, signIn.StatusCode);
    }

    [Fact]
    public async Task Behind_an_ingress_that_ends_tls_the_console_has_the_code_returned_over_https()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = mesh.Console };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        var authorize = response.Headers.Location!;
        Assert.Equal($"https://{mesh.Console.Authority}/connect/authorize", authorize.GetLeftPart(UriPartial.Path));
        var redirect = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorize.Query)["redirect_uri"].ToString();
        Assert.Equal($"https://{mesh.Console.Authority}/signin-oidc", redirect);
    }

    [Fact]
    public async Task Behind_an_ingress_that_ends_tls_the_identitys_sign_in_cookies_are_secure_and_the_browser_is_told_to_keep_to_tls()
    {
        // No cookie jar: one would not hand a Secure cookie back over the test's plain http.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = mesh.Console };
        using var page = new HttpRequestMessage(HttpMethod.Get, "/account/login?ReturnUrl=%2Fconnect%2Fauthorize");
        page.Headers.Add("X-Forwarded-Proto", "https");
        using var shown = await http.SendAsync(page);
        var html = await shown.Content.ReadAsStringAsync();
        var antiforgery = System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        using var post = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["officer"] = "privacy-officer-1",
                ["password"] = mesh.Password("privacy-officer-1"),
                ["returnUrl"] = "/connect/authorize",
                ["__RequestVerificationToken"] = antiforgery,
            }),
        };
        post.Headers.Add("X-Forwarded-Proto", "https");
        post.Headers.Add("Cookie", string.Join("; ", shown.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])));
        using var signedIn = await http.SendAsync(post);

        Assert.Equal(System.Net.HttpStatusCode.OK, shown.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, signedIn.StatusCode);
        var cookies = shown.Headers.GetValues("Set-Cookie").Concat(signedIn.Headers.GetValues("Set-Cookie")).ToList();
        Assert.Contains(cookies, c => c.StartsWith("ketenmesh-officer=", StringComparison.Ordinal));
        Assert.All(cookies, c => Assert.Contains("; secure", c, StringComparison.OrdinalIgnoreCase));
        Assert.StartsWith("max-age=31536000", shown.Headers.GetValues("Strict-Transport-Security").Single());
    }

    const string GetRegistration = "chain.registry.v1.VictimRegistry/GetRegistration";

    /// <summary>Tab through the page (other stops, such as a tree's summaries, count too): every control must have had the focus.</summary>
    static async Task AssertEveryControlIsReachedWithTabAsync(IPage page, string name)
    {
        // With what a page makes focusable itself (the diff, for one, to be scrolled).
        const string Controls = "a[href], input:not([type=hidden]):not(:disabled), select:not(:disabled), textarea:not(:disabled), button:not(:disabled), [tabindex]:not([tabindex=\"-1\"])";
        var count = await page.EvaluateAsync<int>($"() => document.querySelectorAll('{Controls}').length");
        Assert.True(count > 0, $"{name} has no controls");
        string[] missed = [];
        for (var i = 0; i < 2 * count + 10; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            missed = await page.EvaluateAsync<string[]>($@"() => {{
                document.activeElement && document.activeElement.setAttribute('data-reached', '');
                return [...document.querySelectorAll('{Controls}')].filter(e => !e.hasAttribute('data-reached')).map(e => e.outerHTML.slice(0, 120));
            }}");
            if (missed.Length == 0)
            {
                break;
            }
        }
        Assert.True(missed.Length == 0, $"{name}: not reached with Tab: {string.Join(" ", missed)}");
    }

    /// <summary>
    /// The grant's page with a diff open: a new draft of the seeded grant with one more field ticked, compared with the
    /// published version, so the diff has an added and a deleted line. Each test drafts on its own grant.
    /// </summary>
    static async Task<string> GrantDiffAsync(IPage officer, string grantId)
    {
        await officer.GotoAsync($"/Editor?grant={grantId}&method={Uri.EscapeDataString(GetRegistration)}");
        await officer.Locator("#field-registration-person-sex").CheckAsync();
        await officer.GetByRole(AriaRole.Button, new() { Name = "Save as draft" }).ClickAsync();
        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("Drafted version");
        await officer.GotoAsync($"/Grant?id={grantId}");
        var published = await officer.Locator("#from option", new() { HasTextString = "(published)" }).GetAttributeAsync("value");
        var draft = await officer.Locator("#to option", new() { HasTextString = "(draft)" }).GetAttributeAsync("value");
        var path = $"/Grant?id={grantId}&from={published}&to={draft}";
        await officer.GotoAsync(path);
        await Expect(officer.Locator("pre .added")).ToHaveCountAsync(1);
        return path;
    }

    /// <summary>The researcher's dashboard with someone registered this year, so it holds its charts and tables.</summary>
    async Task<IPage> ResearchersDashboardAsync()
    {
        using var http = ConsoleMesh.Http2();
        var comensha = await PartnerSession.SignInAsync(http, mesh.Identity, mesh.DataDirectory, "comensha");
        using (var gateway = GrpcChannel.ForAddress(mesh.Gateway))
        {
            await AuditAndDashboardTests.RegisterAsync(gateway, comensha, "a11y-" + Guid.NewGuid().ToString("N")[..12]);
        }
        var researcher = await mesh.SignInAsResearcherAsync("rapporteur-researcher-1");
        await Expect(researcher.Locator("svg[role=img]")).ToHaveCountAsync(4);
        return researcher;
    }

    [Fact]
    public async Task Every_control_of_the_main_pages_is_reached_with_the_tab_key()
    {
        var officer = await mesh.SignInAsync("privacy-officer-1");
        var diff = await GrantDiffAsync(officer, "shelters-victim-care");
        foreach (var path in new[]
        {
            "/",
            "/Matrix",
            $"/Editor?grant=care-victim-care&method={Uri.EscapeDataString(GetRegistration)}",
            $"/Simulate?partner=care&purpose=4&method={Uri.EscapeDataString(GetRegistration)}",
            "/Grant?id=care-victim-care",
            diff,
            "/Audit?partner=police",
            "/Subject?pseudonym=registration_id%3Areg-1",
            "/Verify",
        })
        {
            await officer.GotoAsync(path);
            await AssertEveryControlIsReachedWithTabAsync(officer, path);
        }
        await officer.Context.CloseAsync();

        // The sign-in page the console sends officers to, and the Rapporteur's dashboard as its researcher sees it.
        var signIn = await mesh.SignInPageAsync();
        await AssertEveryControlIsReachedWithTabAsync(signIn, "the sign-in page");
        await signIn.Context.CloseAsync();
        var researcher = await ResearchersDashboardAsync();
        await AssertEveryControlIsReachedWithTabAsync(researcher, "/Dashboard");
        await researcher.Context.CloseAsync();
    }

    [Fact]
    public async Task Every_page_labels_its_controls_and_axe_finds_no_serious_or_critical_violation()
    {
        var officer = await mesh.SignInAsync("privacy-officer-1");
        var pages = new (string Path, string? Screenshot)[]
        {
            ("/", "grants.png"),
            ("/Matrix", "matrix.png"),
            ("/Grant?id=care-victim-care", "grant.png"),
            (await GrantDiffAsync(officer, "shelter-pmw-victim-care"), null),
            ($"/Editor?grant=care-victim-care&method={Uri.EscapeDataString(GetRegistration)}", "editor.png"),
            ($"/Simulate?partner=care&purpose=4&method={Uri.EscapeDataString(GetRegistration)}", "simulation.png"),
            ("/Audit?partner=police", "audit.png"),
            ("/Subject?pseudonym=registration_id%3Areg-1", "subject.png"),
            ("/Verify", "verify-form.png"),
        };
        foreach (var (path, screenshot) in pages)
        {
            await officer.GotoAsync(path);
            await Axe.AssertLabelledAndAccessibleAsync(officer, path);
            if (screenshot == "editor.png")
            {
                // The field tree, the editor's point, is below the grant's own fields.
                await officer.Locator("#field-registration-status").ScrollIntoViewIfNeededAsync();
            }

            if (screenshot is not null)
            {
                await officer.ScreenshotAsync(new PageScreenshotOptions { Path = ConsoleMesh.ScreenshotPath(screenshot), FullPage = false });
            }
        }
        await officer.Context.CloseAsync();

        // Not officers' pages, but the sign-in page they are sent to, and the Rapporteur's dashboard with its charts.
        var signIn = await mesh.SignInPageAsync();
        await Axe.AssertLabelledAndAccessibleAsync(signIn, "the sign-in page");
        await signIn.Context.CloseAsync();
        var researcher = await ResearchersDashboardAsync();
        await Axe.AssertLabelledAndAccessibleAsync(researcher, "/Dashboard");
        await researcher.Context.CloseAsync();
    }
}
