using System.Net;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Testing;

/// <summary>
/// Plays the gateway's part for tests that call a service straight: it mints the transaction token a
/// service believes, for the partner a call names in <see cref="CallerPartner.PartnerHeader"/> and for
/// the method being called, and publishes its JWKS where the service's <c>CallerTrust:Gateway</c> points.
/// </summary>
public sealed class TestGateway
{
    private static readonly Lazy<Task<TestGateway>> SharedInstance = new(StartSharedAsync);

    private readonly TransactionTokenIssuer _issuer;

    private TestGateway(TransactionTokenIssuer issuer, string keyDirectory)
    {
        _issuer = issuer;
        KeyDirectory = keyDirectory;
    }

    /// <summary>Where its signing keys are: another <see cref="UsingKeysOf"/> there signs as this gateway.</summary>
    public string KeyDirectory { get; }

    /// <summary>Where this gateway's JWKS answers: what a service's <c>CallerTrust:Gateway</c> is set to.</summary>
    public Uri Address => new(_issuer.Issuer);

    /// <summary>One per test process, with its keys in a temporary directory and its JWKS on a free port.</summary>
    public static TestGateway Shared => SharedInstance.Value.GetAwaiter().GetResult();

    /// <summary>Mints with the keys of a real gateway (its data directory), as that gateway at <paramref name="address"/>.</summary>
    /// <param name="clock">The clock its tokens are stamped with; one in the past mints expired tokens.</param>
    public static TestGateway UsingKeysOf(string dataDirectory, Uri address, TimeProvider? clock = null) =>
        new(new TransactionTokenIssuer(
            SigningKeyStore.OpenOrCreate(Path.Combine(dataDirectory, "gateway-transaction-keys.json"), TimeProvider.System, TransactionTokens.MaxLifetime),
            address.ToString(), clock ?? TimeProvider.System), dataDirectory);

    public string Mint(string method, string partner, string purpose = "test", TimeSpan? lifetime = null) =>
        _issuer.Mint(method, new TransactionContext(partner, purpose, "test-grant", null, "00000000000000000000000000000000"), lifetime);

    /// <summary>A channel on which a call's <see cref="CallerPartner.PartnerHeader"/> becomes that partner's transaction token.</summary>
    /// <param name="meshDataDirectory">
    /// For a service that listens for the gateway over TLS (https): the data directory whose mesh
    /// authority issued its certificate; the channel presents the gateway's certificate from there.
    /// </param>
    public GrpcChannel Channel(Uri address, string? meshDataDirectory = null)
    {
        var handler = new SocketsHttpHandler();
        if (address.Scheme == Uri.UriSchemeHttps)
        {
            MeshCertificates.ConfigureClient(handler, meshDataDirectory ?? KeyDirectory, MeshCertificates.Gateway, servers: null);
        }
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new MintingHandler(this) { InnerHandler = handler } });
    }

    private static async Task<TestGateway> StartSharedAsync()
    {
        var directory = Directory.CreateTempSubdirectory("ketenmesh-test-gateway-").FullName;
        var port = FreePorts.Next();
        var gateway = UsingKeysOf(directory, new Uri($"http://127.0.0.1:{port}"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        app.MapGet(TransactionTokens.JwksPath, () => Results.Json(gateway._issuer.Keys.JwksDocument()));
        await app.StartAsync();
        return gateway;
    }

    private sealed class MintingHandler(TestGateway gateway) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Headers.TryGetValues(CallerPartner.PartnerHeader, out var partners))
            {
                request.Headers.Remove(CallerPartner.PartnerHeader);
                request.Headers.TryAddWithoutValidation(TransactionTokens.Header, gateway.Mint(request.RequestUri!.AbsolutePath, partners.First()));
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}
