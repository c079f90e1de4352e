namespace Ketenmesh.Grpc.Server;

/// <summary>Limits and behaviour of the gRPC server; bound from configuration section <c>Grpc</c>.</summary>
public sealed class GrpcServerOptions
{
    /// <summary>Largest request message accepted, after decompression (gRPC's customary 4 MB).</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest response message sent; null means no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>Put exception messages in <c>grpc-message</c>; for local development only.</summary>
    public bool EnableDetailedErrors { get; set; }

    /// <summary>Compress every response with this encoding when the caller accepts it; null mirrors the request's encoding.</summary>
    public string? ResponseCompression { get; set; }

    /// <summary>
    /// Turn exceptions a service does not catch into a status (and trailers, such as rich error details)
    /// a caller can act on; first non-null wins, otherwise UNKNOWN. grpc-dotnet's equivalent is an interceptor.
    /// </summary>
    public IList<Func<Exception, RpcException?>> ExceptionMappers { get; } = [];
}
