using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ketenmesh.Grpc.Server;
using Ketenmesh.Testing.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Support;

/// <summary>A real Kestrel server on loopback serving the interop service, health and reflection.</summary>
public sealed class TestServer : IAsyncDisposable
{
    /// <summary>Test-only: the request's grpc-encoding copied into metadata so the service can report it.</summary>
    public const string ObservedEncodingHeader = "x-test-request-encoding";

    private readonly WebApplication _app;

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

    public static async Task<TestServer> StartAsync(
        Action<IServiceCollection>? configureServices = null,
        Action<WebApplication>? map = null,
        bool withTls = false,
        Action<GrpcServerOptions>? options = null,
        bool mapInteropService = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            if (withTls)
            {
                kestrel.Listen(IPAddress.Loopback, 0, o =>
                {
                    o.Protocols = HttpProtocols.Http1AndHttp2;
                    o.UseHttps(CreateSelfSignedCertificate());
                });
            }
        });
        builder.Services.AddGrpcServer(options);
        builder.Services.AddSingleton<ProbeRegistry>();
        builder.Services.AddSingleton<InteropTestService>();
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
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
            app.MapGrpcService<InteropTestService>(InteropReflection.Descriptor.Services[0]);
        }
        map?.Invoke(app);
        app.MapGrpcHealthAndReflection();
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal))).ToList();
        var plain = addresses.First(a => a.Scheme == "http");
        var tls = addresses.FirstOrDefault(a => a.Scheme == "https");
        return new TestServer(app, plain, tls);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
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
