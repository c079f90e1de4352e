using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Ketenmesh.Bench;

/// <summary>
/// YARP and nothing else: the same h2c hop to the same services the gateway forwards to, with YARP's
/// defaults, no authentication, policy, mask or audit. What the gateway adds is measured against this.
/// </summary>
public sealed class BareHop(WebApplication app, Uri address) : IAsyncDisposable
{
    public Uri Address { get; } = address;

    /// <param name="destinations">Package (<c>chain.risk.v1</c>) → the service's address.</param>
    public static async Task<BareHop> StartAsync(IReadOnlyDictionary<string, Uri> destinations)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
        });
        var routes = destinations.Keys.Select(package => new RouteConfig
        {
            RouteId = package,
            ClusterId = package,
            Match = new RouteMatch { Path = $"/{package}.{{service}}/{{method}}" },
        }).ToList();
        var clusters = destinations.Select(d => new ClusterConfig
        {
            ClusterId = d.Key,
            Destinations = new Dictionary<string, DestinationConfig> { [d.Key] = new() { Address = d.Value.ToString() } },
            HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
            HttpClient = new HttpClientConfig { EnableMultipleHttp2Connections = true },
        }).ToList();
        builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync();
        var port = new Uri(app.Urls.First()).Port;
        return new BareHop(app, new Uri($"http://127.0.0.1:{port}"));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
