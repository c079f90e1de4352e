using System.Diagnostics;
using Ketenmesh.Gateway.Proxy.Wire;
using Ketenmesh.Security;
using Microsoft.Extensions.Primitives;

namespace Ketenmesh.Gateway.Proxy;

/// <summary>
/// What crosses the gateway as metadata. Services believe only the transaction token the gateway mints
/// for each call; any inbound copy of it, x-chain-* metadata and the partner's token (for the gateway
/// alone) are dropped.
/// </summary>
internal static class TrustedHeaders
{
    public const string Purpose = "x-purpose";

    public static bool IsForwardable(string name) =>
        !GrpcHeaders.IsReserved(name)
        && !name.StartsWith("x-chain-", StringComparison.OrdinalIgnoreCase)
        && !name.Equals(TransactionTokens.Header, StringComparison.OrdinalIgnoreCase)
        && !name.Equals("authorization", StringComparison.OrdinalIgnoreCase)
        && !name.Equals(Purpose, StringComparison.OrdinalIgnoreCase)
        && !name.Equals("connection", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("upgrade", StringComparison.OrdinalIgnoreCase)
        && !name.Equals("proxy-connection", StringComparison.OrdinalIgnoreCase);

    /// <summary>Copies the caller's custom metadata and sets what the decision vouches for.</summary>
    public static void Apply(IHeaderDictionary inbound, HttpRequestMessage outbound, string transactionToken, string traceParent)
    {
        foreach (var (name, values) in inbound)
        {
            if (IsForwardable(name) && !name.Equals(GrpcHeaders.TraceParent, StringComparison.OrdinalIgnoreCase))
            {
                outbound.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        outbound.Headers.TryAddWithoutValidation(TransactionTokens.Header, transactionToken);
        outbound.Headers.TryAddWithoutValidation(GrpcHeaders.TraceParent, traceParent);
        outbound.Headers.TryAddWithoutValidation("te", "trailers");
        // Minimisation needs plain protobuf from upstream; compression back to the caller is not worth a second pass.
        outbound.Headers.TryAddWithoutValidation(GrpcHeaders.AcceptEncoding, "identity");
        // No grpc-encoding: every request message leaves the gateway re-encoded and uncompressed (CanonicalRequest).
    }

    /// <summary>The caller's W3C trace context when it sent a valid one, else a new trace started here.</summary>
    public static string TraceParent(IHeaderDictionary inbound)
    {
        // The gateway's own span, when telemetry records one (it continues the caller's trace already):
        // the service's span then hangs below the gateway's, and the whole call is one trace.
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } current)
        {
            return $"00-{current.TraceId}-{current.SpanId}-{(current.Recorded ? "01" : "00")}";
        }

        string? value = inbound[GrpcHeaders.TraceParent];
        if (value is not null && ActivityContext.TryParse(value, inbound[GrpcHeaders.TraceState], out var parent))
        {
            // We are a hop of our own: same trace, new span.
            return $"00-{parent.TraceId}-{ActivitySpanId.CreateRandom()}-{(parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";
        }
        return $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";
    }

    public static string TraceId(string traceParent) => traceParent.Substring(3, 32);

    /// <summary>
    /// Whether a service's response header or trailer may reach the partner: everything but the
    /// gateway's own trust metadata, which a service has no business echoing.
    /// </summary>
    public static bool MayLeave(string name) =>
        !name.StartsWith("x-chain-", StringComparison.OrdinalIgnoreCase)
        && !name.Equals(TransactionTokens.Header, StringComparison.OrdinalIgnoreCase);
}
