using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Tests;

/// <summary>The identity component hosted for real on a loopback port, used the way a partner system and a validator use it.</summary>
public sealed class TokenEndpointTests : IAsyncLifetime
{
    readonly string _dataDirectory = Directory.CreateTempSubdirectory("ketenmesh-identity-").FullName;
    readonly PartnerSystem _inspectorate = new("inspectorate-system");
    MeshApplication _mesh = null!;
    HttpClient _http = null!;
    Uri _issuer = null!;

    public async Task InitializeAsync()
    {
        _mesh = MeshHost.Build(new IdentityComponent(), [], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:Port"] = "0",
            ["Identity:KeyFile"] = Path.Combine(_dataDirectory, "keys.json"),
            // An identifier, not where the test connects: the port is only known after start.
            ["Identity:Issuer"] = "https://identity.test",
        }));
        await _mesh.App.StartAsync();
        var address = _mesh.Addresses.Single();
        _issuer = new Uri($"http://127.0.0.1:{address.Port}");
        _http = new HttpClient { BaseAddress = _issuer, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var partner = PartnerCatalog.Seeded.Find("inspectorate")!;
        _mesh.App.Services.GetRequiredService<ClientRegistry>().Register(new Client(_inspectorate.ClientId, partner, _inspectorate.PublicKey));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    async Task<(HttpStatusCode Status, JsonElement Body)> RequestTokenAsync(Dictionary<string, string> form)
    {
        using var response = await _http.PostAsync("/connect/token", new FormUrlEncodedContent(form));
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    async Task<string> TokenEndpointAsync() =>
        (await _http.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration")).GetProperty("token_endpoint").GetString()!;

    Dictionary<string, string> ClientCredentials(string assertion, string? scope = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_assertion_type"] = ClientAssertionValidator.AssertionType,
            ["client_assertion"] = assertion,
        };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        return form;
    }

    [Fact]
    public async Task A_partner_system_gets_a_token_that_validates_against_the_discovered_jwks()
    {
        var discovery = await _http.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");
        Assert.Equal("https://identity.test", discovery.GetProperty("issuer").GetString());
        Assert.Equal(["client_credentials"], discovery.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["private_key_jwt"], discovery.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()));

        var (status, body) = await RequestTokenAsync(ClientCredentials(_inspectorate.Assertion(await TokenEndpointAsync()), scope: "signalling"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal("signalling", body.GetProperty("scope").GetString());
        Assert.InRange(body.GetProperty("expires_in").GetInt32(), 1, 600);

        var jwks = new JsonWebKeySet(await _http.GetStringAsync(new Uri(discovery.GetProperty("jwks_uri").GetString()!).PathAndQuery));
        Assert.All(jwks.Keys, k => Assert.False(k.HasPrivateKey));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(body.GetProperty("access_token").GetString(), new TokenValidationParameters
        {
            ValidIssuer = discovery.GetProperty("issuer").GetString(),
            ValidAudience = "ketenmesh-gateway",
            IssuerSigningKeys = jwks.Keys,
            ValidTypes = ["at+jwt"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        Assert.Equal("inspectorate", ((JsonWebToken)result.SecurityToken).Subject);
    }

    [Fact]
    public async Task A_replayed_assertion_gets_invalid_client()
    {
        var assertion = _inspectorate.Assertion(await TokenEndpointAsync());
        Assert.Equal(HttpStatusCode.OK, (await RequestTokenAsync(ClientCredentials(assertion))).Status);
        var (status, body) = await RequestTokenAsync(ClientCredentials(assertion));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_purpose_the_partner_does_not_have_gets_invalid_scope_with_the_allowed_ones()
    {
        var (status, body) = await RequestTokenAsync(ClientCredentials(_inspectorate.Assertion(await TokenEndpointAsync()), scope: "victim_care"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_scope", body.GetProperty("error").GetString());
        Assert.Contains("criminal_investigation", body.GetProperty("error_description").GetString());
    }

    [Theory]
    [InlineData("password", "unsupported_grant_type")]
    [InlineData("client_credentials", "invalid_client")]
    public async Task Bad_token_requests_get_the_oauth_error_that_names_the_problem(string grantType, string error)
    {
        var (status, body) = await RequestTokenAsync(new Dictionary<string, string> { ["grant_type"] = grantType, ["client_id"] = "inspectorate-system" });
        Assert.NotEqual(HttpStatusCode.OK, status);
        Assert.Equal(error, body.GetProperty("error").GetString());
    }
}
