using System.Net;
using System.Security.Cryptography.X509Certificates;
using Ketenmesh.Hosting.GrpcServer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Hosting;

/// <summary>Hosts mesh components: one per process (real profile) or all in one process (embedded profile).</summary>
public static class MeshHost
{
    /// <summary>Builds the host for one component as its own process.</summary>
    public static MeshApplication Build(IMeshComponent component, string[] args, Action<IConfigurationBuilder>? configure = null)
    {
        var builder = CreateBuilder(args, configure, component.Name);
        var endpoint = EndpointOptions.For(component, builder.Configuration);
        builder.WebHost.ConfigureKestrel(kestrel => Listen(kestrel, endpoint));
        component.AddServices(builder.Services, builder.Configuration);
        var app = builder.Build();
        app.UseLastResortErrors();
        app.UseGrpcCallMetrics();
        component.MapEndpoints(app);
        app.MapReadinessProbe();
        if (!component.MapsOwnHealthAndReflection)
        {
            app.MapGrpcHealthAndReflection(portScoped: false);
        }
        app.Services.GetRequiredService<ServiceCatalog>().Load(app);
        return new MeshApplication(app, new Dictionary<IMeshComponent, EndpointOptions> { [component] = endpoint });
    }

    /// <summary>
    /// Builds one process hosting every component, each on its own port and with its own configuration
    /// view, sharing one DI container and so one in-process bus.
    /// </summary>
    /// <param name="configureServices">Added after every component (a test adds an in-memory span exporter, say).</param>
    public static MeshApplication BuildEmbedded(IReadOnlyList<IMeshComponent> components, string[] args, Action<IConfigurationBuilder>? configure = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = CreateBuilder(args, configure, "ketenmesh");
        var views = components.ToDictionary(c => c, c => ComponentConfiguration.ForEmbedded(builder.Configuration, c));
        var endpoints = components.ToDictionary(c => c, c => EndpointOptions.For(c, views[c]));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var endpoint in endpoints.Values)
            {
                Listen(kestrel, endpoint);
            }
        });
        foreach (var component in components)
        {
            component.AddServices(builder.Services, views[component]);
        }
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseLastResortErrors();
        app.UseGrpcCallMetrics();
        foreach (var component in components)
        {
            var port = app.MapGrpcPort(endpoints[component].Port, endpoints[component].TlsPort);
            component.MapEndpoints(port);
            port.MapReadinessProbe();
            if (!component.MapsOwnHealthAndReflection)
            {
                port.MapGrpcHealthAndReflection(portScoped: true);
            }
        }
        app.Services.GetRequiredService<ServiceCatalog>().Load(app);
        return new MeshApplication(app, endpoints);
    }

    /// <summary>
    /// TLS on the service's port with the mesh authority's certificate for this component, and only the
    /// gateway's certificate accepted from the caller: nothing but the gateway can even open the connection.
    /// </summary>
    private static void ListenForTheGateway(ListenOptions listen, EndpointOptions endpoint)
    {
        var directory = MeshCertificates.DirectoryOf(endpoint.DataDirectory);
        var certificate = MeshCertificates.For(directory, endpoint.Component);
        var authority = MeshCertificates.Authority(directory);
        listen.UseHttps(https =>
        {
            https.ServerCertificate = certificate;
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (presented, _, _) => MeshCertificates.IsIssuedTo(presented, authority, [MeshCertificates.Gateway]);
        });
    }

    /// <summary>The path of the plain HTTP readiness probe, which the gateway's active health checks ask (GET, over HTTP/2).</summary>
    public const string ReadinessPath = "/healthz/ready";

    /// <summary>Readiness for HTTP probes (YARP's active health checks): the same checks as grpc.health.v1's.</summary>
    private static void MapReadinessProbe(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHealthChecks(ReadinessPath, new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Ketenmesh.Persistence.Readiness.Tag),
        });

    private static WebApplicationBuilder CreateBuilder(string[] args, Action<IConfigurationBuilder>? configure, string serviceName)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder.Configuration);
        PrivateDataDirectory.Secure(EndpointOptions.DataDirectoryOf(builder.Configuration));
        builder.Logging.AddChainLogging();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        // Readiness as grpc.health.v1 (the k8s readinessProbe): every check tagged "ready", every 2 s.
        builder.Services.AddHealthChecks();
        builder.Services.Configure<HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.Zero;
            o.Period = TimeSpan.FromSeconds(2);
            o.Timeout = TimeSpan.FromSeconds(5);
            o.Predicate = check => check.Tags.Contains(Ketenmesh.Persistence.Readiness.Tag);
        });
        builder.Services.AddSingleton<IHealthCheckPublisher, ReadinessLog>();
        builder.Services.AddChainTelemetry(builder.Configuration, serviceName);
        // Every exception a service leaves uncaught becomes a status in one interceptor (RefusalInterceptor).
        builder.Services.AddChainGrpc(builder.Configuration);
        return builder;
    }

    private static void Listen(KestrelServerOptions kestrel, EndpointOptions endpoint)
    {
        var address = IPAddress.Parse(endpoint.BindAddress);
        kestrel.Listen(address, endpoint.Port, o =>
        {
            o.Protocols = HttpProtocols.Http2;
            if (endpoint.MutualTls)
            {
                ListenForTheGateway(o, endpoint);
            }
        });
        if (endpoint.TlsPort is { } tlsPort)
        {
            kestrel.Listen(address, tlsPort, o =>
            {
                o.Protocols = HttpProtocols.Http1AndHttp2;
                o.UseHttps(https =>
                {
                    https.ServerCertificate = endpoint.IsDevelopmentCertificate
                        ? DevelopmentCertificate.LoadOrCreate(endpoint.CertificatePath!)
                        : X509CertificateLoader.LoadPkcs12FromFile(endpoint.CertificatePath!, endpoint.CertificatePassword);
                    // A client certificate is optional and is not a credential here: tokens are bound to
                    // it by thumbprint (RFC 8705 §3), so self-signed partner certificates are welcome.
                    https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                    https.ClientCertificateValidation = (_, _, _) => true;
                });
            });
        }
        // Large raids stream hundreds of signals on one connection; keep many calls in flight per connection.
        kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
        kestrel.Limits.MaxConcurrentConnections = endpoint.MaxConnections;
    }
}
