namespace Ketenmesh.Grpc.Client;

public sealed class GrpcChannelOptions
{
    /// <summary>Largest response message accepted (gRPC's customary 4 MB); null means no limit.</summary>
    public int? MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest request message sent; null means no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>Compress requests with gzip (the server must accept it).</summary>
    public bool CompressRequests { get; set; }

    /// <summary>
    /// Inside a served call, outgoing calls inherit its deadline and cancellation, so a partner's
    /// timeout bounds the whole chain of calls it started.
    /// </summary>
    public bool PropagateServerCallContext { get; set; } = true;

    /// <summary>Replaces the default pooled HTTP/2 handler (e.g. for TLS client certificates).</summary>
    public HttpMessageHandler? HttpHandler { get; set; }
}
