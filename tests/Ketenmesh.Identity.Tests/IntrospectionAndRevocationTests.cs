using System.Net;
using System.Text.Json;
using Ketenmesh.Identity.Domain;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace Ketenmesh.Identity.Tests;

/// <summary>
/// OpenIddict's introspection (RFC 7662) for the gateway's client and revocation (RFC 7009): a token its
/// partner revoked is reported inactive. Both endpoints authenticate their callers with private_key_jwt.
/// </summary>
public sealed class IntrospectionAndRevocationTests : IAsyncLifetime
{
    readonly PartnerSystem _police = new("police-system");
    readonly PartnerSystem _riec = new("riec-system");
    readonly PartnerSystem _gateway = new("ketenmesh-gateway");
    IdentityHost _identity = null!;
    string _issuer = null!;

    public async Task InitializeAsync()
    {
        _identity = await IdentityHost.StartAsync();
        await _police.RegisterAsync(_identity.Services, "police");
        await _riec.RegisterAsync(_identity.Services, "riec");
        await using (var scope = _identity.Services.CreateAsyncScope())
        {
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            await PartnerClients.RegisterAsync(applications, PartnerClients.DescribeGateway(_gateway.ClientId, _gateway.KeySet));
        }

        _issuer = await _identity.IssuerAsync();
    }

    public async Task DisposeAsync() => await _identity.DisposeAsync();

    async Task<string> TokenAsync(PartnerSystem system)
    {
        var (status, body) = await _identity.RequestTokenAsync(system.Assertion(_issuer));
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("access_token").GetString()!;
    }

    Task<(HttpStatusCode Status, JsonElement Body)> CallAsync(string path, PartnerSystem caller, string token) =>
        _identity.PostAsync(path, new Dictionary<string, string>
        {
            ["token"] = token,
            ["token_type_hint"] = "access_token",
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = caller.Assertion(_issuer),
        });

    [Fact]
    public async Task The_gateway_introspects_a_partner_token_as_active_with_its_subject_and_purposes()
    {
        var token = await TokenAsync(_police);

        var (status, body) = await CallAsync("/connect/introspect", _gateway, token);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("active").GetBoolean());
        Assert.Equal("police", body.GetProperty("sub").GetString());
        Assert.Equal("police-system", body.GetProperty("client_id").GetString());
        Assert.Equal(["criminal_investigation", "signalling"], body.GetProperty("scope").GetString()!.Split(' ').Order());
    }

    [Fact]
    public async Task A_token_its_partner_revoked_is_reported_inactive()
    {
        var token = await TokenAsync(_police);
        Assert.True((await CallAsync("/connect/introspect", _gateway, token)).Body.GetProperty("active").GetBoolean());

        var (revoked, _) = await CallAsync("/connect/revoke", _police, token);
        Assert.Equal(HttpStatusCode.OK, revoked);

        var (status, body) = await CallAsync("/connect/introspect", _gateway, token);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(body.GetProperty("active").GetBoolean());
        Assert.False(body.TryGetProperty("sub", out _));
    }

    [Fact]
    public async Task The_gateway_can_revoke_a_token_meant_for_it()
    {
        var token = await TokenAsync(_police);

        Assert.Equal(HttpStatusCode.OK, (await CallAsync("/connect/revoke", _gateway, token)).Status);

        Assert.False((await CallAsync("/connect/introspect", _gateway, token)).Body.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Another_partner_learns_nothing_about_a_token_by_introspecting_it()
    {
        var token = await TokenAsync(_police);

        var (status, body) = await CallAsync("/connect/introspect", _riec, token);

        // RIEC's client has no introspection permission.
        Assert.NotEqual(HttpStatusCode.OK, status);
        Assert.False(body.TryGetProperty("sub", out _));
        Assert.True((await CallAsync("/connect/introspect", _gateway, token)).Body.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Introspection_without_client_authentication_is_refused()
    {
        var token = await TokenAsync(_police);

        var (status, body) = await _identity.PostAsync("/connect/introspect", new Dictionary<string, string> { ["token"] = token });

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());
        Assert.False(body.TryGetProperty("active", out _));
    }

    [Fact]
    public async Task Discovery_names_the_introspection_and_revocation_endpoints()
    {
        var discovery = await _identity.DiscoveryAsync();
        // OpenIddict names its endpoints where the document was read.
        Assert.Equal(new Uri(_identity.Address, "/connect/introspect").ToString(), discovery.GetProperty("introspection_endpoint").GetString());
        Assert.Equal(new Uri(_identity.Address, "/connect/revoke").ToString(), discovery.GetProperty("revocation_endpoint").GetString());
    }
}
