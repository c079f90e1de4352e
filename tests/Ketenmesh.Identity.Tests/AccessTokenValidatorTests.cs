using System.Net;
using System.Net.Sockets;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Identity.Tests;

/// <summary>
/// Services and the gateway trust an issuer by its address alone: discovery gives them its keys.
/// Two identity services run side by side, configured independently, standing in for ours and a
/// replacement (Keycloak, Duende) in another deployment.
/// </summary>
public sealed class AccessTokenValidatorTests : IAsyncLifetime
{
    const string Audience = "ketenmesh-gateway";

    readonly List<(MeshApplication Mesh, string Directory)> _issuers = [];
    readonly HttpClient _http = new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    Uri _ours = null!;
    Uri _theirs = null!;

    public async Task InitializeAsync()
    {
        _ours = await StartIssuerAsync();
        _theirs = await StartIssuerAsync();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        foreach (var (mesh, directory) in _issuers)
        {
            await mesh.App.StopAsync();
            await mesh.App.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    async Task<Uri> StartIssuerAsync()
    {
        var directory = Directory.CreateTempSubdirectory("ketenmesh-issuer-").FullName;
        var port = FreePort();
        var mesh = MeshHost.Build(new IdentityComponent(), [], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:Port"] = port.ToString(),
            ["Mesh:DataDirectory"] = directory,
        }));
        await mesh.App.StartAsync();
        _issuers.Add((mesh, directory));
        return new Uri($"http://127.0.0.1:{port}");
    }

    IServiceProvider Services(Uri issuer) => _issuers[issuer == _ours ? 0 : 1].Mesh.App.Services;

    string Token(Uri issuer, string partner = "police", TimeProvider? clock = null)
    {
        var services = Services(issuer);
        var tokens = clock is null
            ? services.GetRequiredService<AccessTokenIssuer>()
            : new AccessTokenIssuer(services.GetRequiredService<SigningKeyStore>(), clock, services.GetRequiredService<IssuerOptions>());
        var found = PartnerCatalog.Seeded.Find(partner)!;
        return tokens.Issue(found, $"{partner}-system", found.Purposes).AccessToken;
    }

    AccessTokenValidator TrustOnly(Uri authority, string audience = Audience) =>
        new(new AccessTokenValidationOptions { Authority = authority, Audience = audience }, _http);

    [Fact]
    public async Task A_token_from_the_trusted_issuer_yields_the_partner_and_its_purposes()
    {
        var result = await TrustOnly(_ours).ValidateAsync(Token(_ours, "police"));
        Assert.Null(result.Error);
        Assert.Equal("police", result.Principal!.PartnerId);
        Assert.Equal("police-system", result.Principal.ClientId);
        Assert.Equal(["criminal_investigation", "signalling"], result.Principal.Purposes.Order());
    }

    [Fact]
    public async Task A_second_independently_configured_issuer_is_trusted_by_configuration_alone()
    {
        var result = await TrustOnly(_theirs).ValidateAsync(Token(_theirs, "rapporteur"));
        Assert.Null(result.Error);
        Assert.Equal(["statistics"], result.Principal!.Purposes);
    }

    [Fact]
    public async Task A_token_from_an_issuer_not_configured_here_is_refused()
    {
        var result = await TrustOnly(_ours).ValidateAsync(Token(_theirs));
        Assert.Null(result.Principal);
        Assert.Contains("issuer this service does not trust", result.Error);
    }

    [Fact]
    public async Task An_expired_token_is_refused_with_the_advice_to_get_a_new_one()
    {
        var issuedLongAgo = new ManualClock(DateTimeOffset.UtcNow.AddMinutes(-20));
        var result = await TrustOnly(_ours).ValidateAsync(Token(_ours, clock: issuedLongAgo));
        Assert.Contains("expired", result.Error);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused()
    {
        var result = await TrustOnly(_ours, audience: "ketenmesh-registry").ValidateAsync(Token(_ours));
        Assert.Contains("wrong aud", result.Error);
    }

    [Fact]
    public async Task A_token_signed_with_a_key_rotated_in_after_discovery_still_validates()
    {
        var validator = TrustOnly(_ours);
        Assert.Null((await validator.ValidateAsync(Token(_ours))).Error);

        Services(_ours).GetRequiredService<SigningKeyStore>().Rotate();
        var result = await validator.ValidateAsync(Token(_ours));
        Assert.Null(result.Error);
    }

    [Fact]
    public async Task A_certificate_bound_token_carries_its_thumbprint_to_the_principal()
    {
        var ind = PartnerCatalog.Seeded.Find("ind")!;
        var token = Services(_ours).GetRequiredService<AccessTokenIssuer>().Issue(ind, "ind-system", ind.Purposes, certificateThumbprint: "x5t-of-the-ind-certificate");
        var result = await TrustOnly(_ours).ValidateAsync(token.AccessToken);
        Assert.Equal("x5t-of-the-ind-certificate", result.Principal?.CertificateThumbprint);
        Assert.Null((await TrustOnly(_ours).ValidateAsync(Token(_ours))).Principal!.CertificateThumbprint);
    }

    [Fact]
    public async Task Garbage_is_refused_as_a_malformed_token()
    {
        var result = await TrustOnly(_ours).ValidateAsync("not.a.token");
        Assert.Null(result.Principal);
        Assert.NotNull(result.Error);
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
