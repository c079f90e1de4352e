using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Security;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Tests;

/// <summary>
/// A privacy officer signs in at the identity service with the authorization code flow and PKCE, through
/// the login page, with a real HTTP client that keeps cookies and follows the redirects.
/// </summary>
public sealed class OfficerSignInTests : IAsyncLifetime
{
    IdentityHost _identity = null!;
    HttpClient _browser = null!;
    readonly string _verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public async Task InitializeAsync()
    {
        _identity = await IdentityHost.StartAsync(new() { ["Identity:LocalClients"] = "true" });
        _browser = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = _identity.Address,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public async Task DisposeAsync()
    {
        _browser.Dispose();
        await _identity.DisposeAsync();
    }

    /// <summary>The console component's client: it signs officers in, and the Rapporteur's researchers for the statistics.</summary>
    static readonly (string Id, string RedirectUri) Console = (OfficerConsole.ComponentClientId, "http://127.0.0.1:8090/signin-oidc");

    string AuthorizeUrl(string scope = "policy_admin", string? challenge = null, (string Id, string RedirectUri)? client = null) => QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
    {
        ["response_type"] = "code",
        ["client_id"] = client?.Id ?? OfficerConsole.ClientId,
        ["redirect_uri"] = client?.RedirectUri ?? OfficerConsole.RedirectUri.ToString(),
        ["scope"] = scope,
        ["state"] = "state-1",
        ["code_challenge"] = challenge ?? Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(_verifier))),
        ["code_challenge_method"] = "S256",
    });

    /// <summary>Follows redirects on the identity service until one leaves it (to the console's redirect URI).</summary>
    async Task<(HttpResponseMessage Last, Uri? LeftTo)> FollowAsync(HttpResponseMessage response)
    {
        for (var hops = 0; hops < 10 && response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther; hops++)
        {
            var location = new Uri(_identity.Address, response.Headers.Location!);
            if (location.Authority != _identity.Address.Authority)
            {
                return (response, location);
            }

            response = await _browser.GetAsync(location);
        }

        return (response, null);
    }

    /// <summary>Fills in the login page the way a browser would: the page's own hidden fields, plus officer and password.</summary>
    async Task<HttpResponseMessage> SignInAsync(string officer, string password, string returnUrl, bool fromTheLoginPage = true)
    {
        var form = new Dictionary<string, string> { ["officer"] = officer, ["password"] = password, ["returnUrl"] = returnUrl };
        if (fromTheLoginPage)
        {
            var page = await _browser.GetStringAsync("/account/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));
            var antiforgery = Regex.Match(page, "name=\"(__RequestVerificationToken)\" value=\"([^\"]+)\"");
            Assert.True(antiforgery.Success, page);
            form[antiforgery.Groups[1].Value] = antiforgery.Groups[2].Value;
        }

        return await _browser.PostAsync("/account/login", new FormUrlEncodedContent(form));
    }

    async Task<Uri> CodeRedirectAsync(string officer, string? authorizeUrl = null)
    {
        var (loginPage, leftTo) = await FollowAsync(await _browser.GetAsync(authorizeUrl ?? AuthorizeUrl()));
        if (leftTo is not null)
        {
            return leftTo; // signed in already: the cookie is enough
        }

        Assert.Equal(HttpStatusCode.OK, loginPage.StatusCode);
        Assert.Contains("<form method=\"post\"", await loginPage.Content.ReadAsStringAsync());
        var returnUrl = QueryHelpers.ParseQuery(loginPage.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();

        var (_, redirect) = await FollowAsync(await SignInAsync(officer, OfficerPasswords.LoadOrCreate(_identity.DataDirectory, officer), returnUrl));
        Assert.NotNull(redirect);
        return redirect;
    }

    Task<(HttpStatusCode Status, JsonElement Body)> RedeemAsync(string code, string? verifier, (string Id, string RedirectUri)? client = null) =>
        _identity.PostAsync("/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = client?.RedirectUri ?? OfficerConsole.RedirectUri.ToString(),
            ["client_id"] = client?.Id ?? OfficerConsole.ClientId,
            ["code_verifier"] = verifier ?? "",
        });

    async Task<(int Code, string Output, string Error)> AccountAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await AccountCommand.RunAsync([.. args, $"--Mesh:DataDirectory={_identity.DataDirectory}"], output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task An_officer_added_from_the_command_line_signs_in_with_the_password_shown_once_and_gets_nothing_once_removed()
    {
        var added = await AccountAsync("add", "officer", "j.devries");
        Assert.Equal((0, ""), (added.Code, added.Error));
        var password = Regex.Match(added.Output, "shown this once: (\\S+)").Groups[1].Value;
        Assert.NotEmpty(password);
        Assert.Contains("j.devries\tofficer", (await AccountAsync("list")).Output);
        // Shown once means kept nowhere: its file holds a salted hash, not the password.
        var kept = File.ReadAllText(OfficerPasswords.PathOf(_identity.DataDirectory, "j.devries"));
        Assert.DoesNotContain(password, kept);
        Assert.Null(OfficerPasswords.Readable(_identity.DataDirectory, "j.devries"));

        var (loginPage, _) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl()));
        var returnUrl = QueryHelpers.ParseQuery(loginPage.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync("j.devries", password + "x", returnUrl)).StatusCode);
        var (_, redirect) = await FollowAsync(await SignInAsync("j.devries", password, returnUrl));
        Assert.NotNull(redirect);
        var (status, body) = await RedeemAsync(QueryHelpers.ParseQuery(redirect.Query)["code"].ToString(), _verifier);
        Assert.Equal(HttpStatusCode.OK, status);
        var token = new JsonWebToken(body.GetProperty("access_token").GetString()!);
        Assert.Equal(("j.devries", "policy_admin"), (token.Subject, token.GetClaim("scope").Value));

        Assert.Equal(0, (await AccountAsync("remove", "j.devries")).Code);
        // Its session is still open, but the account is gone: the next authorization sends it to the login page,
        // where the password it was shown signs in no more.
        var (again, leftTo) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl()));
        Assert.Null(leftTo);
        Assert.Contains("/account/login", again.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync("j.devries", password, returnUrl)).StatusCode);
    }

    [Fact]
    public async Task An_account_with_a_bad_or_a_partners_or_a_taken_name_is_refused_and_a_removed_seeded_one_is_not_made_again()
    {
        Assert.Equal(2, (await AccountAsync("add", "officer", "Jan de Vries")).Code);
        Assert.Equal(2, (await AccountAsync("add", "officer", "police")).Code);
        Assert.Equal(2, (await AccountAsync("add", "researcher", "privacy-officer-1")).Code);
        Assert.Equal(2, (await AccountAsync("add", "auditor", "a.visser")).Code);
        Assert.Equal(2, (await AccountAsync("remove", "nobody")).Code);
        Assert.Equal(0, (await AccountAsync("add", "researcher", "a.visser")).Code);

        Assert.Equal(0, (await AccountAsync("remove", "privacy-officer-2")).Code);
        // What the identity does at every start: the seeded accounts were made at the first, and are not made again.
        OfficerPasswords.SeedOnce(_identity.DataDirectory);

        var listed = (await AccountAsync("list")).Output;
        Assert.Contains("a.visser\tresearcher", listed);
        Assert.Contains("privacy-officer-1\tofficer", listed);
        Assert.DoesNotContain("privacy-officer-2", listed);
        Assert.False(OfficerPasswords.IsOfficer(_identity.DataDirectory, "privacy-officer-2"));
        Assert.True(OfficerPasswords.IsResearcher(_identity.DataDirectory, "a.visser"));
    }

    [Fact]
    public async Task An_officer_who_signs_in_gets_a_policy_admin_token_the_gateway_accepts()
    {
        var redirect = await CodeRedirectAsync("privacy-officer-2");

        Assert.Equal(OfficerConsole.RedirectUri.GetLeftPart(UriPartial.Path), redirect.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(redirect.Query);
        Assert.Equal("state-1", query["state"].ToString());
        Assert.Equal(await _identity.IssuerAsync(), query["iss"].ToString()); // RFC 9207: as discovery says
        var (status, body) = await RedeemAsync(query["code"].ToString(), _verifier);
        Assert.Equal(HttpStatusCode.OK, status);

        var token = body.GetProperty("access_token").GetString()!;
        var validator = new AccessTokenValidator(new AccessTokenValidationOptions { Authority = _identity.Address, Audience = "ketenmesh-gateway" }, _identity.Http);
        var validated = await validator.ValidateAsync(token);
        Assert.Null(validated.Error);
        Assert.Equal(("privacy-officer-2", "privacy_officer"), (validated.Principal!.PartnerId, validated.Principal.PartnerType));
        Assert.Equal(["policy_admin"], validated.Principal.Purposes);
        Assert.Equal("at+jwt", new JsonWebToken(token).Typ);
    }

    [Fact]
    public async Task A_researcher_who_signs_in_for_the_statistics_gets_the_rapporteurs_token_naming_them()
    {
        var redirect = await CodeRedirectAsync("rapporteur-researcher-1", AuthorizeUrl("openid statistics", client: Console));

        var (status, body) = await RedeemAsync(QueryHelpers.ParseQuery(redirect.Query)["code"].ToString(), _verifier, Console);
        Assert.Equal(HttpStatusCode.OK, status);
        var token = body.GetProperty("access_token").GetString()!;
        var validator = new AccessTokenValidator(new AccessTokenValidationOptions { Authority = _identity.Address, Audience = "ketenmesh-gateway" }, _identity.Http);
        var validated = await validator.ValidateAsync(token);
        Assert.Null(validated.Error);
        // The partner the gateway's grant is for, its type and its one purpose; the person stays in the token beside it.
        Assert.Equal(("rapporteur", "rapporteur"), (validated.Principal!.PartnerId, validated.Principal.PartnerType));
        Assert.Equal(["statistics"], validated.Principal.Purposes.Where(p => p != "openid"));
        Assert.True(new JsonWebToken(token).TryGetPayloadValue<string>(RapporteurResearchers.Claim, out var researcher));
        Assert.Equal("rapporteur-researcher-1", researcher);
    }

    [Fact]
    public async Task An_officer_asking_for_the_statistics_is_asked_to_sign_in_again_and_gets_no_code()
    {
        await CodeRedirectAsync("privacy-officer-1", AuthorizeUrl("openid policy_admin", client: Console));

        var (page, leftTo) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl("openid statistics", client: Console)));

        Assert.Null(leftTo);
        Assert.Contains("/account/login", page.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task A_researcher_asking_for_an_officers_rights_is_asked_to_sign_in_again_and_gets_no_code()
    {
        await CodeRedirectAsync("rapporteur-researcher-1", AuthorizeUrl("openid statistics", client: Console));

        var (page, leftTo) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl("openid policy_admin", client: Console)));

        Assert.Null(leftTo);
        Assert.Contains("/account/login", page.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task The_command_line_officers_client_may_not_ask_for_the_statistics()
    {
        var (answer, leftTo) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl("statistics")));

        // Refused by OpenIddict before anyone is asked to sign in: the client holds no permission for that scope.
        Assert.Null(leftTo);
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.DoesNotContain("/account/login", answer.RequestMessage!.RequestUri!.AbsolutePath);
        // OpenIddict's own answer to a scope the client holds no permission for (ID2051): invalid_request, shown here, never sent on.
        Assert.Contains("error:invalid_request", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_code_is_refused_without_its_pkce_verifier_and_works_only_once()
    {
        var code = QueryHelpers.ParseQuery((await CodeRedirectAsync("privacy-officer-1")).Query)["code"].ToString();

        var (withoutVerifier, _) = await RedeemAsync(code, Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(HttpStatusCode.BadRequest, withoutVerifier);

        var secondCode = QueryHelpers.ParseQuery((await CodeRedirectAsync("privacy-officer-1")).Query)["code"].ToString();
        Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(secondCode, _verifier)).Status);
        var (again, body) = await RedeemAsync(secondCode, _verifier);
        Assert.Equal(HttpStatusCode.BadRequest, again);
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_wrong_password_leaves_the_officer_on_the_login_page_without_a_code()
    {
        var (loginPage, _) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl()));
        var returnUrl = QueryHelpers.ParseQuery(loginPage.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();

        using var refused = await SignInAsync("privacy-officer-1", "guess", returnUrl);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("wrong password", await refused.Content.ReadAsStringAsync());
        var (again, leftTo) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl()));
        Assert.Null(leftTo);
        Assert.Contains("/account/login", again.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Fact]
    public async Task An_account_that_failed_five_times_is_refused_for_the_minute_even_with_its_password_and_others_sign_in()
    {
        var (loginPage, _) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl()));
        var returnUrl = QueryHelpers.ParseQuery(loginPage.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();
        var guesses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var guess = await SignInAsync("privacy-officer-1", $"guess-{i}", returnUrl);
            guesses.Add(guess.StatusCode);
        }

        using var resting = await SignInAsync("privacy-officer-1", OfficerPasswords.LoadOrCreate(_identity.DataDirectory, "privacy-officer-1"), returnUrl);
        using var other = await SignInAsync("privacy-officer-2", OfficerPasswords.LoadOrCreate(_identity.DataDirectory, "privacy-officer-2"), returnUrl);

        Assert.All(guesses, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, resting.StatusCode);
        Assert.Contains("try again in a minute", await resting.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, other.StatusCode);
    }

    [Fact]
    public async Task Guesses_sent_at_once_get_no_more_than_five_tries_at_an_account()
    {
        var (loginPage, _) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl()));
        var returnUrl = QueryHelpers.ParseQuery(loginPage.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();
        // The login page once first, so that every guess below carries the same antiforgery cookie.
        (await _browser.GetAsync("/account/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl))).Dispose();

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            using var guess = await SignInAsync("privacy-officer-1", $"guess-{i}", returnUrl);
            return guess.StatusCode;
        }));

        Assert.Equal(5, answers.Count(a => a == HttpStatusCode.Unauthorized));
        Assert.Equal(7, answers.Count(a => a == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task A_login_form_posted_from_elsewhere_is_refused()
    {
        var password = OfficerPasswords.LoadOrCreate(_identity.DataDirectory, "privacy-officer-1");

        using var response = await SignInAsync("privacy-officer-1", password, "/connect/authorize", fromTheLoginPage: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (again, leftTo) = await FollowAsync(await _browser.GetAsync(AuthorizeUrl()));
        Assert.Null(leftTo);
        Assert.Contains("/account/login", again.RequestMessage!.RequestUri!.AbsolutePath);
    }

    [Theory]
    [InlineData("https://evil.test/")]
    [InlineData("//evil.test/")]
    [InlineData("/\\evil.test/")]
    // Browsers drop a tab, CR or LF in a URL, so each of these is //evil.test/ to them.
    [InlineData("/\t/evil.test/")]
    [InlineData("/\n/evil.test/")]
    [InlineData("/\r/evil.test/")]
    public async Task A_login_does_not_send_the_officer_to_another_site(string returnUrl)
    {
        using var response = await SignInAsync("privacy-officer-1", OfficerPasswords.LoadOrCreate(_identity.DataDirectory, "privacy-officer-1"), returnUrl);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }
}
