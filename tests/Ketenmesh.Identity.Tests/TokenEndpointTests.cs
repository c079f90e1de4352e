using System.Net;
using System.Text.Json;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Tests;

/// <summary>The token endpoint used the way a partner system and the mesh's validators use it.</summary>
public sealed class TokenEndpointTests : IAsyncLifetime
{
    readonly PartnerSystem _inspectorate = new("inspectorate-system");
    IdentityHost _identity = null!;

    public async Task InitializeAsync()
    {
        _identity = await IdentityHost.StartAsync();
        await _inspectorate.RegisterAsync(_identity.Services, "inspectorate");
    }

    public async Task DisposeAsync() => await _identity.DisposeAsync();

    [Fact]
    public async Task A_partner_system_gets_a_token_that_validates_against_the_discovered_jwks()
    {
        var discovery = await _identity.DiscoveryAsync();
        Assert.Equal("https://identity.test", discovery.GetProperty("issuer").GetString());
        // Partners: client credentials; privacy officers sign in with a code (OfficerSignInTests).
        Assert.Equal(["authorization_code", "client_credentials"], discovery.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()).Order());
        Assert.Equal(["private_key_jwt", "self_signed_tls_client_auth"], discovery.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()));

        var (status, body) = await _identity.RequestTokenAsync(_inspectorate.Assertion(await _identity.IssuerAsync()), scope: "signalling");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal("signalling", body.GetProperty("scope").GetString());
        Assert.InRange(body.GetProperty("expires_in").GetInt32(), 1, 600);

        var jwks = new JsonWebKeySet(await _identity.Http.GetStringAsync(new Uri(discovery.GetProperty("jwks_uri").GetString()!).PathAndQuery));
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
    public async Task The_gateways_validator_accepts_the_endpoints_token_and_reads_partner_purposes_and_client()
    {
        // The gateway and the sharing-policy service know the issuer by its address: discovery over h2c.
        var validator = new AccessTokenValidator(new AccessTokenValidationOptions { Authority = _identity.Address, Audience = "ketenmesh-gateway" }, _identity.Http);
        var (_, body) = await _identity.RequestTokenAsync(_inspectorate.Assertion(await _identity.IssuerAsync()));

        var result = await validator.ValidateAsync(body.GetProperty("access_token").GetString()!);

        Assert.Null(result.Error);
        Assert.Equal("inspectorate", result.Principal!.PartnerId);
        Assert.Equal("inspectorate", result.Principal.PartnerType);
        Assert.Equal("inspectorate-system", result.Principal.ClientId);
        Assert.Equal(["criminal_investigation", "signalling"], result.Principal.Purposes.Order());
        Assert.Null(result.Principal.CertificateThumbprint);
    }

    [Fact]
    public async Task The_endpoints_token_has_the_header_and_claims_of_the_tokens_minted_in_process()
    {
        var (_, body) = await _identity.RequestTokenAsync(_inspectorate.Assertion(await _identity.IssuerAsync()));
        var endpoint = new JsonWebToken(body.GetProperty("access_token").GetString());
        var inspectorate = PartnerCatalog.Seeded.Find("inspectorate")!;
        var minted = new JsonWebToken(_identity.Services.GetRequiredService<AccessTokenIssuer>().Issue(inspectorate, "inspectorate-system", inspectorate.Purposes).AccessToken);

        Assert.Equal(("at+jwt", "ES256"), (endpoint.Typ, endpoint.Alg));
        Assert.Equal((minted.Typ, minted.Alg, minted.Kid), (endpoint.Typ, endpoint.Alg, endpoint.Kid));
        Assert.Equal(minted.Issuer, endpoint.Issuer);
        foreach (var claim in new[] { "sub", "aud", "client_id", "scope", "partner_type" })
        {
            Assert.Equal(minted.GetClaim(claim).Value, endpoint.GetClaim(claim).Value);
        }

        Assert.False(string.IsNullOrEmpty(endpoint.Id));
        Assert.NotEqual(minted.Id, endpoint.Id);
        Assert.Equal(TimeSpan.FromMinutes(5), endpoint.ValidTo - endpoint.IssuedAt);
        Assert.False(endpoint.TryGetPayloadValue<object>("cnf", out _));
    }

    [Fact]
    public async Task After_a_key_rotation_the_endpoint_signs_with_the_new_key_and_tokens_of_the_old_one_still_validate()
    {
        var validator = new AccessTokenValidator(new AccessTokenValidationOptions { Authority = _identity.Address, Audience = "ketenmesh-gateway" }, _identity.Http);
        var before = (await _identity.RequestTokenAsync(_inspectorate.Assertion(await _identity.IssuerAsync()))).Body.GetProperty("access_token").GetString()!;
        Assert.Null((await validator.ValidateAsync(before)).Error);

        var newKey = _identity.Services.GetRequiredService<SigningKeyStore>().Rotate();
        var after = (await _identity.RequestTokenAsync(_inspectorate.Assertion(await _identity.IssuerAsync()))).Body.GetProperty("access_token").GetString()!;

        Assert.Equal(newKey, new JsonWebToken(after).Kid);
        Assert.NotEqual(newKey, new JsonWebToken(before).Kid);
        var jwks = new JsonWebKeySet(await _identity.Http.GetStringAsync("/.well-known/jwks.json"));
        Assert.Equal([new JsonWebToken(before).Kid, newKey], jwks.Keys.Select(k => k.Kid));
        // The validator's copy of the JWKS predates the rotation: the unknown kid makes it fetch again.
        Assert.Null((await validator.ValidateAsync(after)).Error);
        Assert.Null((await validator.ValidateAsync(before)).Error);
    }

    [Fact]
    public async Task A_replayed_assertion_gets_invalid_client()
    {
        var assertion = _inspectorate.Assertion(await _identity.IssuerAsync());
        Assert.Equal(HttpStatusCode.OK, (await _identity.RequestTokenAsync(assertion)).Status);
        var (status, body) = await _identity.RequestTokenAsync(assertion);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());
        Assert.Contains("used before", body.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task A_purpose_the_partner_does_not_have_gets_invalid_scope_with_the_allowed_ones()
    {
        var (status, body) = await _identity.RequestTokenAsync(_inspectorate.Assertion(await _identity.IssuerAsync()), scope: "victim_care");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_scope", body.GetProperty("error").GetString());
        Assert.Contains("criminal_investigation", body.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task A_scope_that_is_no_purpose_of_the_chain_gets_invalid_scope()
    {
        var (status, body) = await _identity.RequestTokenAsync(_inspectorate.Assertion(await _identity.IssuerAsync()), scope: "spying");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_scope", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("password", "unsupported_grant_type")]
    [InlineData("client_credentials", "invalid_client")]
    public async Task Bad_token_requests_get_the_oauth_error_that_names_the_problem(string grantType, string error)
    {
        var (status, body) = await _identity.PostAsync("/connect/token", new Dictionary<string, string> { ["grant_type"] = grantType, ["client_id"] = "inspectorate-system" });
        Assert.NotEqual(HttpStatusCode.OK, status);
        Assert.Equal(error, body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Every_response_of_the_token_endpoint_forbids_caching()
    {
        using var response = await _identity.Http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = _inspectorate.Assertion(await _identity.IssuerAsync()),
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        _ = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }
}
