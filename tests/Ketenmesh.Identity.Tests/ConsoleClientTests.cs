using System.Net;
using System.Security.Cryptography;
using System.Text;
using Ketenmesh.Identity.Domain;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;

namespace Ketenmesh.Identity.Tests;

/// <summary>
/// The officers' console is registered wherever the identity is told where the console is, with or without the
/// local profile's clients: compose and Kubernetes run without them, and officers must still sign in there.
/// </summary>
public sealed class ConsoleClientTests : IAsyncLifetime
{
    IdentityHost _identity = null!;

    // As compose and Kubernetes give it (deploy/components.ini): no local clients, the console as browsers reach it.
    public async Task InitializeAsync() => _identity = await IdentityHost.StartAsync(new()
    {
        ["Identity:LocalClients"] = "false",
        ["Identity:ConsoleRedirectUri"] = "http://localhost:18090/signin-oidc",
    });

    public async Task DisposeAsync() => await _identity.DisposeAsync();

    async Task<HttpResponseMessage> AuthorizeAsync(string redirectUri)
    {
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false })
        {
            BaseAddress = _identity.Address,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        return await browser.GetAsync(QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = OfficerConsole.ComponentClientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = "openid policy_admin",
            ["state"] = "state-1",
            ["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes("verifier"))),
            ["code_challenge_method"] = "S256",
        }));
    }

    [Fact]
    public async Task Without_local_clients_the_console_is_registered_and_the_accounts_are_made_but_no_partner_client()
    {
        await using var scope = _identity.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var console = await applications.FindByClientIdAsync(OfficerConsole.ComponentClientId);
        Assert.NotNull(console);
        // On loopback both spellings: a newcomer opens either, and the browser sends the host it was given.
        Assert.Equal(
            ["http://127.0.0.1:18090/signin-oidc", "http://localhost:18090/signin-oidc"],
            (await applications.GetRedirectUrisAsync(console)).Order(StringComparer.Ordinal));
        Assert.Null(await applications.FindByClientIdAsync(LocalClients.ClientId(PartnerCatalog.Seeded.Find("police")!)));
        Assert.Null(await applications.FindByClientIdAsync(OfficerConsole.ClientId));
        Assert.All(OfficerPasswords.Accounts, account => Assert.True(File.Exists(OfficerPasswords.PathOf(_identity.DataDirectory, account)), account));
    }

    [Theory]
    [InlineData("http://localhost:18090/signin-oidc")]
    [InlineData("http://127.0.0.1:18090/signin-oidc")]
    public async Task An_officer_opening_the_console_at_either_loopback_name_is_sent_to_sign_in(string redirectUri)
    {
        using var response = await AuthorizeAsync(redirectUri);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/account/login", response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task A_redirect_the_console_does_not_have_is_refused_before_anyone_signs_in()
    {
        using var response = await AuthorizeAsync("http://elsewhere.test:18090/signin-oidc");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }
}
