using System.Net;
using Google.Protobuf.Reflection;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Proxy;

/// <summary>Which service owns a method (by its package), and one pooled HTTP/2 client to all of them.</summary>
public sealed class UpstreamRoutes : IDisposable
{
    private readonly Dictionary<string, Uri> _routes;

    public UpstreamRoutes(IOptions<GatewayOptions> options)
    {
        _routes = new Dictionary<string, Uri>(options.Value.Routes, StringComparer.Ordinal);
        _handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // TrustedHeaders sets traceparent from the caller's; the handler must not replace it with its own.
            ActivityHeadersPropagator = null,
        };
        Invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
    }

    private readonly SocketsHttpHandler _handler;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Uri, GrpcChannel> _channels = new();

    /// <summary>A channel to an upstream for the gateway's own calls (health), sharing the relay's connections.</summary>
    public GrpcChannel Channel(Uri upstream) =>
        _channels.GetOrAdd(upstream, u => GrpcChannel.ForAddress(u, new GrpcChannelOptions { HttpHandler = _handler }));

    public HttpMessageInvoker Invoker { get; }

    public Uri? Find(MethodDescriptor method) => _routes.GetValueOrDefault(method.File.Package);

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
        Invoker.Dispose();
        _handler.Dispose();
    }
}
