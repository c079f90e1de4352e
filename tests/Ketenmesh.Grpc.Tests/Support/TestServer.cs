using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ketenmesh.Hosting.GrpcServer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Support;

/// <summary>
/// A real Kestrel server on loopback serving the interop service, health and reflection on grpc-dotnet
/// configured the way every mesh component is (<see cref="ChainGrpc"/>, and MeshHost's listeners,
/// health publishing and shutdown timeout), so these tests hold the mesh's own gRPC stack to the protocol.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    /// <summary>Test-only: the request's grpc-encoding copied into metadata so the service can report it (grpc-dotnet hides grpc-* headers from RequestHeaders).</summary>
    public const string ObservedEncodingHeader = "x-test-request-encoding";

    /// <summary>MeshHost's: how long a stopping component waits for calls in flight before it aborts them.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(15);

    private readonly WebApplication _app;
    private int _disposed;

    private TestServer(WebApplication app, Uri address, Uri? tlsAddress)
    {
        _app = app;
        Address = address;
        TlsAddress = tlsAddress;
    }

    public Uri Address { get; }

    public Uri? TlsAddress { get; }

    public IServiceProvider Services => _app.Services;

    public string HostPort => $"{Address.Host}:{Address.Port}";

    /// <param name="settings">Configuration as a component would read it, e.g. <c>Grpc:MaxReceiveMessageSize</c>.</param>
    public static async Task<TestServer> StartAsync(
        Action<IServiceCollection>? configureServices = null,
        Action<WebApplication>? map = null,
        bool withTls = false,
        IDictionary<string, string?>? settings = null,
        bool mapInteropService = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // As MeshHost listens: h2c only on the plain port, HTTP/1.1 and HTTP/2 (by ALPN) on the TLS port.
            kestrel.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            if (withTls)
            {
                kestrel.Listen(IPAddress.Loopback, 0, o =>
                {
                    o.Protocols = HttpProtocols.Http1AndHttp2;
                    o.UseHttps(CreateSelfSignedCertificate());
                });
            }
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddHealthChecks();
        builder.Services.Configure<HealthCheckPublisherOptions>(o =>
        {
            // MeshHost publishes readiness at once and then every 2 s; grpc.health.v1 Watch reports from these.
            o.Delay = TimeSpan.Zero;
            o.Period = TimeSpan.FromSeconds(2);
            o.Predicate = check => check.Tags.Contains(Ketenmesh.Persistence.Readiness.Tag);
        });
        builder.Services.AddChainGrpc(builder.Configuration);
        builder.Services.AddSingleton<ProbeRegistry>();
        builder.Services.AddSingleton<InteropTestService>();
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseGrpcCallMetrics();
        app.Use((context, next) =>
        {
            var encoding = context.Request.Headers["grpc-encoding"];
            if (encoding.Count > 0)
            {
                context.Request.Headers[ObservedEncodingHeader] = encoding;
            }
            return next(context);
        });
        if (mapInteropService)
        {
            app.MapGrpcService<InteropTestService>();
        }
        map?.Invoke(app);
        app.MapGrpcHealthAndReflection(portScoped: false);
        app.Services.GetRequiredService<ServiceCatalog>().Load(app);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal))).ToList();
        var plain = addresses.First(a => a.Scheme == "http");
        var tls = addresses.FirstOrDefault(a => a.Scheme == "https");
        return new TestServer(app, plain, tls);
    }

    /// <summary>Stops the server as a component stops (graceful, bounded by <see cref="ShutdownTimeout"/>).</summary>
    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(ShutdownTimeout + TimeSpan.FromSeconds(15));
        await _app.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await StopAsync();
        await _app.DisposeAsync();
    }

    private static X509Certificate2 CreateSelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}

/// <summary>One server for a whole test class.</summary>
public sealed class TestServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(withTls: true);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
