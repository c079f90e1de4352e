using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf.Reflection;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;

namespace Ketenmesh.Gateway.Forwarding;

/// <summary>
/// YARP's connections to the services, tuned for long gRPC streams: keep-alive pings find a dead peer,
/// and the request transform sets the traceparent from the call's own trace (the one the audit names),
/// so the handler must not replace it. With <see cref="GatewayOptions.MutualTls"/> the gateway presents
/// its mesh certificate and accepts only the certificate the mesh authority issued to the cluster's service.
/// </summary>
internal sealed class ServiceConnections(ILogger<ForwarderHttpClientFactory> logger, string? meshTlsDataDirectory) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (meshTlsDataDirectory is not null)
        {
            // Clusters are named after the component that serves them (signals, registry…).
            MeshCertificates.ConfigureClient(handler, meshTlsDataDirectory, MeshCertificates.Gateway, [context.ClusterId]);
        }
        handler.ActivityHeadersPropagator = null;
        handler.KeepAlivePingDelay = TimeSpan.FromSeconds(60);
        handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(30);
        handler.PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5);
        handler.ConnectTimeout = TimeSpan.FromSeconds(5);
    }
}

/// <summary>
/// Where a package's service answers, as YARP's configuration and health state say: the route is named
/// after the package, and its cluster's destinations are the service's replicas.
/// </summary>
internal sealed class ServiceDestinations : IDisposable
{
    private readonly IProxyStateLookup _proxy;
    private readonly ConcurrentDictionary<Uri, GrpcChannel> _channels = new();
    private readonly SocketsHttpHandler _handler = new() { ConnectTimeout = TimeSpan.FromSeconds(2), EnableMultipleHttp2Connections = true };

    public ServiceDestinations(IProxyStateLookup proxy, string? meshTlsDataDirectory)
    {
        _proxy = proxy;
        if (meshTlsDataDirectory is not null)
        {
            MeshCertificates.ConfigureClient(_handler, meshTlsDataDirectory, MeshCertificates.Gateway, proxy.GetClusters().Select(c => c.Model.Config.ClusterId).ToList());
        }
    }

    /// <summary>A destination of the method's service (a healthy one when any is), or null when none is configured.</summary>
    public Uri? Find(MethodDescriptor method)
    {
        if (!_proxy.TryGetRoute(method.File.Package, out var route) || route.Cluster is not { } cluster)
        {
            return null;
        }
        var destination = cluster.DestinationsState.AvailableDestinations.FirstOrDefault() ?? cluster.Destinations.Values.FirstOrDefault();
        return destination is null ? null : new Uri(destination.Model.Config.Address);
    }

    /// <summary>A channel to a destination for the gateway's own calls (health).</summary>
    public GrpcChannel Channel(Uri destination) =>
        _channels.GetOrAdd(destination, d => GrpcChannel.ForAddress(d, new GrpcChannelOptions { HttpHandler = _handler, DisposeHttpClient = false }));

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
        _handler.Dispose();
    }
}
