using Ketenmesh.Security;
using Ketenmesh.Testing;
using Chain.Common.V1;
using Chain.Policy.V1;
using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Policy;
using Ketenmesh.Policy.Seed;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Gateway.Tests;

/// <summary>Tokens the gateway must refuse, and certificate binding where a grant demands it.</summary>
public sealed class TokenTests : IAsyncLifetime
{
    private const string GetRegistration = "chain.registry.v1.VictimRegistry/GetRegistration";
    private readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-tokens-").FullName;
    private GatewayMesh _mesh = null!;
    private int _tlsPort;

    public async Task InitializeAsync()
    {
        _tlsPort = FreePorts.Next();
        _mesh = await GatewayMesh.StartAsync(BindingRequiredForPoliceInvestigation(), new()
        {
            ["Components:gateway:Service:TlsPort"] = _tlsPort.ToString(),
            ["Components:gateway:Service:CertificatePath"] = Certificates.ServerPfx(_directory),
        });
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Expired_token_is_unauthenticated()
    {
        var issuer = Issuer(clock: new ForgedTokens.ShiftedClock(TimeSpan.FromMinutes(-20)));
        var token = issuer.Issue(PartnerCatalog.Seeded.Find("police")!, "police", new HashSet<Purpose> { Purpose.Signalling }).AccessToken;

        var result = await CallAsync(token, "signalling", "chain.signals.v1.SignalIntake/ListMySignals");

        Assert.Equal((int)StatusCode.Unauthenticated, result.Status);
        Assert.Contains("expired", result.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Token_for_another_audience_is_unauthenticated()
    {
        var issuer = Issuer(audience: "some-other-api");
        var token = issuer.Issue(PartnerCatalog.Seeded.Find("police")!, "police", new HashSet<Purpose> { Purpose.Signalling }).AccessToken;

        var result = await CallAsync(token, "signalling", "chain.signals.v1.SignalIntake/ListMySignals");

        Assert.Equal((int)StatusCode.Unauthenticated, result.Status);
        Assert.Contains("wrong aud", result.Message);
    }

    [Fact]
    public async Task Token_from_an_issuer_the_gateway_does_not_trust_is_unauthenticated()
    {
        var keys = SigningKeyStore.OpenOrCreate(Path.Combine(_directory, "rogue-keys.json"), TimeProvider.System, IssuerOptions.MaxLifetime);
        var rogue = new AccessTokenIssuer(keys, TimeProvider.System, new IssuerOptions { Issuer = "http://127.0.0.1:1" });
        var token = rogue.Issue(PartnerCatalog.Seeded.Find("police")!, "police", new HashSet<Purpose> { Purpose.Signalling }).AccessToken;

        var result = await CallAsync(token, "signalling", "chain.signals.v1.SignalIntake/ListMySignals");

        Assert.Equal((int)StatusCode.Unauthenticated, result.Status);
        Assert.Empty(_mesh.Upstream.Calls);
    }

    [Fact]
    public async Task Grant_that_requires_binding_refuses_a_bearer_token()
    {
        var token = _mesh.Token("police");
        using var tls = RawGrpc.Tls(new Uri($"https://127.0.0.1:{_tlsPort}"), certificate: null);

        var result = await tls.CallAsync(GetRegistration, [[]], Metadata(token, "criminal_investigation"));

        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
        Assert.Contains("requires a certificate-bound token", result.Message);
    }

    [Fact]
    public async Task Bound_token_with_its_certificate_is_allowed_where_binding_is_required()
    {
        using var certificate = Certificates.Client("police-system");
        var token = Issuer().Issue(PartnerCatalog.Seeded.Find("police")!, "police", PartnerCatalog.Seeded.Find("police")!.Purposes, Certificates.Thumbprint(certificate)).AccessToken;
        using var tls = RawGrpc.Tls(new Uri($"https://127.0.0.1:{_tlsPort}"), certificate);

        var result = await tls.CallAsync(GetRegistration, [[]], Metadata(token, "criminal_investigation"));

        Assert.Equal((int)StatusCode.OK, result.Status);
    }

    [Fact]
    public async Task Bound_token_presented_with_another_certificate_is_unauthenticated()
    {
        using var bound = Certificates.Client("police-system");
        using var other = Certificates.Client("someone-else");
        var token = Issuer().Issue(PartnerCatalog.Seeded.Find("police")!, "police", PartnerCatalog.Seeded.Find("police")!.Purposes, Certificates.Thumbprint(bound)).AccessToken;
        using var tls = RawGrpc.Tls(new Uri($"https://127.0.0.1:{_tlsPort}"), other);

        var result = await tls.CallAsync("chain.signals.v1.SignalIntake/ListMySignals", [[]], Metadata(token, "signalling"));

        Assert.Equal((int)StatusCode.Unauthenticated, result.Status);
        Assert.Contains("different client certificate", result.Message);
    }

    [Fact]
    public async Task Bound_token_without_any_certificate_is_unauthenticated()
    {
        using var bound = Certificates.Client("police-system");
        var token = Issuer().Issue(PartnerCatalog.Seeded.Find("police")!, "police", PartnerCatalog.Seeded.Find("police")!.Purposes, Certificates.Thumbprint(bound)).AccessToken;

        var result = await CallAsync(token, "signalling", "chain.signals.v1.SignalIntake/ListMySignals");

        Assert.Equal((int)StatusCode.Unauthenticated, result.Status);
        Assert.Contains("presented none", result.Message);
    }

    private Task<RawCallResult> CallAsync(string token, string purpose, string method) =>
        _mesh.Raw.CallAsync(method, [[]], Metadata(token, purpose));

    private static Dictionary<string, string> Metadata(string token, string purpose) =>
        new() { ["authorization"] = "Bearer " + token, ["x-purpose"] = purpose };

    private AccessTokenIssuer Issuer(TimeProvider? clock = null, string? audience = null) => ForgedTokens.Issuer(_mesh, clock, audience);

    private static PolicySnapshot BindingRequiredForPoliceInvestigation()
    {
        var snapshot = DefaultPolicy.Snapshot(DateTimeOffset.UtcNow);
        var version = snapshot.Grants.Single(g => g.Grant.GrantId == "police-criminal-investigation");
        version.Grant.RequireCertificateBinding = true;
        version.VersionHash = GrantVersionHash.Compute(version.Grant);
        return snapshot;
    }
}
