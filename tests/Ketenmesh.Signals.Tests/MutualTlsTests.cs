using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Chain.Signals.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Security;
using Ketenmesh.Testing;

namespace Ketenmesh.Signals.Tests;

/// <summary>
/// The hop behind the gateway in the real profile: the service's port speaks TLS with a certificate of
/// the mesh's development authority and opens only for the gateway's certificate from that authority.
/// The transaction token is still required on top.
/// </summary>
public sealed class MutualTlsTests : IAsyncLifetime
{
    private const string ListMySignals = "/chain.signals.v1.SignalIntake/ListMySignals";

    private readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-mtls-").FullName;
    private SignalsHost _host = null!;

    public async Task InitializeAsync()
    {
        var settings = ComponentHost.EmbeddedSettings(new SignalsComponent(), _directory);
        settings["Mesh:DataDirectory"] = _directory;
        settings["Service:MutualTls"] = "true";
        _host = await SignalsHost.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task The_gateways_mesh_certificate_opens_the_hop_and_the_call_is_answered()
    {
        Assert.Equal(Uri.UriSchemeHttps, _host.Address.Scheme);
        await _host.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-1", Observation = Observations.PoliceCheck() }, SignalsHost.As("police"));

        var signals = await _host.Channel.Intake().ListMySignalsAsync(new ListMySignalsRequest { PageSize = 3 }, SignalsHost.As("police"));

        Assert.Equal("pol-1", Assert.Single(signals.Signals).ClientRequestId);
    }

    [Fact]
    public async Task The_gateways_certificate_without_a_transaction_token_is_still_unauthenticated()
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            _host.Channel.Intake().ListMySignalsAsync(new ListMySignalsRequest { PageSize = 3 }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task Without_a_client_certificate_the_connection_is_refused()
    {
        var refused = await CallPresentingAsync(certificate: null);

        // A refused handshake surfaces as UNAVAILABLE, or as INTERNAL when the reset races the HTTP/2 stream.
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
    }

    [Fact]
    public async Task A_gateway_certificate_from_another_authority_is_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=gateway", key, HashAlgorithmName.SHA256);
        using var forged = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        var refused = await CallPresentingAsync(forged);

        // A refused handshake surfaces as UNAVAILABLE, or as INTERNAL when the reset races the HTTP/2 stream.
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
    }

    [Fact]
    public async Task A_mesh_certificate_of_another_component_is_refused()
    {
        // Issued by the right authority, but to risk assessment: only the gateway may call a service.
        using var risk = MeshCertificates.For(MeshCertificates.DirectoryOf(_directory), "risk");

        var refused = await CallPresentingAsync(risk);

        // A refused handshake surfaces as UNAVAILABLE, or as INTERNAL when the reset races the HTTP/2 stream.
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
    }

    [Fact]
    public async Task Plain_http2_without_tls_is_refused()
    {
        using var plain = GrpcChannel.ForAddress(new UriBuilder(_host.Address) { Scheme = Uri.UriSchemeHttp }.Uri);

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            plain.Intake().ListMySignalsAsync(new ListMySignalsRequest(), WithToken(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);

        Assert.NotEqual(StatusCode.OK, refused.StatusCode);
        Assert.NotEqual(StatusCode.DeadlineExceeded, refused.StatusCode);
    }

    /// <summary>A call with a valid transaction token over TLS that trusts the service, presenting <paramref name="certificate"/>.</summary>
    private async Task<RpcException> CallPresentingAsync(X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        if (certificate is not null)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }
        using var channel = GrpcChannel.ForAddress(_host.Address, new GrpcChannelOptions { HttpHandler = handler });
        return await Assert.ThrowsAsync<RpcException>(() =>
            channel.Intake().ListMySignalsAsync(new ListMySignalsRequest(), WithToken(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
    }

    private static Metadata WithToken() => new() { { TransactionTokens.Header, TestGateway.Shared.Mint(ListMySignals, "police") } };
}
