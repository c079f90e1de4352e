using System.Text;
using Chain.Signals.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Security;
using Ketenmesh.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Signals.Tests;

/// <summary>
/// Zero trust behind the gateway: a service believes only a transaction token the gateway signed for
/// this service and this method, minutes old at most. Everything else is UNAUTHENTICATED, before any handler.
/// </summary>
public sealed class CallerTrustTests : IAsyncLifetime
{
    private const string ListMySignals = "/chain.signals.v1.SignalIntake/ListMySignals";

    private readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-trust-").FullName;
    private SignalsHost _host = null!;
    private GrpcChannel _plain = null!;

    public async Task InitializeAsync()
    {
        _host = await SignalsHost.StartEmbeddedAsync(_directory);
        // No test gateway in between: whatever the test puts on the call is what the service sees.
        _plain = GrpcChannel.ForAddress(_host.Address);
        await _host.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-1", Observation = Observations.PoliceCheck() }, SignalsHost.As("police"));
    }

    public async Task DisposeAsync()
    {
        _plain.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Task<ListMySignalsResponse> ListAsync(Metadata headers) =>
        _plain.Intake().ListMySignalsAsync(new ListMySignalsRequest { PageSize = 3 }, headers).ResponseAsync;

    private async Task<RpcException> RefusedAsync(Metadata headers)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => ListAsync(headers));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        return refused;
    }

    private static Metadata WithToken(string token) => new() { { TransactionTokens.Header, token } };

    [Fact]
    public async Task A_token_the_gateway_minted_for_this_method_is_believed()
    {
        var signals = await ListAsync(WithToken(TestGateway.Shared.Mint(ListMySignals, "police")));

        Assert.Equal("pol-1", Assert.Single(signals.Signals).ClientRequestId);
    }

    [Fact]
    public async Task A_forged_partner_header_without_a_token_is_unauthenticated()
    {
        var refused = await RefusedAsync(new Metadata { { CallerPartner.PartnerHeader, "police" } });

        Assert.Contains(TransactionTokens.Header, refused.Status.Detail);
    }

    [Fact]
    public async Task A_partner_header_next_to_a_token_changes_nothing()
    {
        // The token says kmar; the header claiming police is just a header.
        var headers = WithToken(TestGateway.Shared.Mint(ListMySignals, "kmar"));
        headers.Add(CallerPartner.PartnerHeader, "police");

        Assert.Empty((await ListAsync(headers)).Signals);
    }

    [Fact]
    public async Task A_token_signed_with_another_key_is_unauthenticated()
    {
        var rogue = TestGateway.UsingKeysOf(Directory.CreateTempSubdirectory("ketenmesh-rogue-").FullName, TestGateway.Shared.Address);

        var refused = await RefusedAsync(WithToken(rogue.Mint(ListMySignals, "police")));

        Assert.Contains("signature", refused.Status.Detail);
    }

    [Fact]
    public async Task An_expired_token_is_unauthenticated()
    {
        var past = TestGateway.UsingKeysOf(TestGatewayKeys, TestGateway.Shared.Address, new ShiftedClock(TimeSpan.FromMinutes(-5)));

        var refused = await RefusedAsync(WithToken(past.Mint(ListMySignals, "police")));

        Assert.Contains("expired", refused.Status.Detail);
    }

    [Fact]
    public async Task A_token_for_another_service_is_unauthenticated()
    {
        var refused = await RefusedAsync(WithToken(TestGateway.Shared.Mint("/chain.registry.v1.VictimRegistry/GetRegistration", "police")));

        Assert.Contains("another service", refused.Status.Detail);
    }

    [Fact]
    public async Task A_token_for_another_method_of_the_same_service_is_unauthenticated()
    {
        var refused = await RefusedAsync(WithToken(TestGateway.Shared.Mint("/chain.signals.v1.SignalIntake/GetSignal", "police")));

        Assert.Contains("another method", refused.Status.Detail);
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_unauthenticated()
    {
        var elsewhere = TestGateway.UsingKeysOf(TestGatewayKeys, new Uri("http://gateway.elsewhere:8080"));

        var refused = await RefusedAsync(WithToken(elsewhere.Mint(ListMySignals, "police")));

        Assert.Contains("not issued by this mesh's gateway", refused.Status.Detail);
    }

    [Fact]
    public async Task A_token_that_lives_longer_than_the_gateway_issues_is_unauthenticated()
    {
        var refused = await RefusedAsync(WithToken(TestGateway.Shared.Mint(ListMySignals, "police", lifetime: TimeSpan.FromHours(1))));

        Assert.Contains("longer", refused.Status.Detail);
    }

    [Fact]
    public async Task An_unsigned_token_is_unauthenticated()
    {
        var signed = new JsonWebToken(TestGateway.Shared.Mint(ListMySignals, "police"));
        var header = Base64UrlEncoder.Encode($$"""{"alg":"none","typ":"{{TransactionTokens.Type}}"}""");

        await RefusedAsync(WithToken($"{header}.{signed.EncodedPayload}."));
    }

    [Fact]
    public async Task A_token_signed_with_hmac_over_the_public_key_is_unauthenticated()
    {
        // The classic confusion: the published key used as an HMAC secret, hoping the verifier follows alg.
        using var http = AuthorityHttp.For(TestGateway.Shared.Address);
        var published = await http.GetByteArrayAsync(new Uri(TestGateway.Shared.Address, TransactionTokens.JwksPath));
        var forged = new JsonWebTokenHandler().CreateToken(PayloadOf(TestGateway.Shared.Mint(ListMySignals, "police")),
            new SigningCredentials(new SymmetricSecurityKey(published), SecurityAlgorithms.HmacSha256),
            new Dictionary<string, object> { ["typ"] = TransactionTokens.Type });

        await RefusedAsync(WithToken(forged));
    }

    [Fact]
    public async Task A_partners_access_token_is_not_a_transaction_token()
    {
        // Same keys and issuer, but typ at+jwt: what a partner holds can never pass for what the gateway vouches.
        var keys = SigningKeyStore.OpenOrCreate(Path.Combine(TestGatewayKeys, "gateway-transaction-keys.json"), TimeProvider.System, TransactionTokens.MaxLifetime);
        var accessToken = new JsonWebTokenHandler().CreateToken(PayloadOf(TestGateway.Shared.Mint(ListMySignals, "police")), keys.Current,
            new Dictionary<string, object> { ["typ"] = "at+jwt" });

        var refused = await RefusedAsync(WithToken(accessToken));

        Assert.Contains("typ", refused.Status.Detail);
    }

    private static string PayloadOf(string token) => Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(new JsonWebToken(token).EncodedPayload));

    /// <summary>The shared test gateway's key directory (its issuer signs with these keys).</summary>
    private static string TestGatewayKeys => TestGateway.Shared.KeyDirectory;

    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }
}
