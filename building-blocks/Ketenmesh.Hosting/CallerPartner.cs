using Grpc.Core;
using Ketenmesh.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Hosting;

/// <summary>
/// Who is calling, as the gateway vouches for it in the call's transaction token. Nothing else on the
/// call is believed: a header naming a partner is just a header (docs/adr/0006).
/// </summary>
public static class CallerPartner
{
    /// <summary>
    /// The partner id as plain metadata. Services ignore it; tests and tools use it to say whom to mint a
    /// transaction token for (Ketenmesh.Testing.TestGateway).
    /// </summary>
    public const string PartnerHeader = "x-chain-partner-id";

    /// <summary>The configuration key of the gateway's address, for services (see <see cref="GatewayAddress"/>).</summary>
    public const string GatewayKey = "CallerTrust:Gateway";

    private const string UserStateKey = "chain.transaction";

    /// <summary>
    /// The calling partner of a service marked <see cref="CalledByPartnersAttribute"/>; the caller interceptor
    /// has verified the gateway's token before the method ran.
    /// </summary>
    public static string Partner(this ServerCallContext context) => context.Transaction().Partner;

    /// <summary>Everything the gateway vouched for on this call: partner, purpose, grant, subject, trace.</summary>
    public static TransactionContext Transaction(this ServerCallContext context) =>
        context.UserState.TryGetValue(UserStateKey, out var value) && value is TransactionContext transaction
            ? transaction
            : throw new InvalidOperationException($"{context.Method} is not marked [{nameof(CalledByPartnersAttribute)}], so it has no caller partner.");

    internal static void Establish(ServerCallContext context, TransactionContext transaction) =>
        context.UserState[UserStateKey] = transaction;

    /// <summary>
    /// Where the gateway is: the issuer of the tokens services believe and the home of its JWKS
    /// (<c>CallerTrust:Gateway</c>). The embedded profile, which runs every component on loopback, finds
    /// it at the gateway's own port.
    /// </summary>
    public static Uri GatewayAddress(IConfiguration configuration) =>
        new(configuration[GatewayKey]
            ?? $"http://127.0.0.1:{configuration["Components:gateway:Service:Port"] ?? "8080"}");
}

/// <summary>Marks a gRPC service whose every method is called by a partner, through the gateway.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class CalledByPartnersAttribute : Attribute;

/// <summary>
/// Verifies the gateway's transaction token on every call of a service marked
/// <see cref="CalledByPartnersAttribute"/>: no token, or a forged, expired or misdirected one, and the call
/// is refused UNAUTHENTICATED before any handler runs. If the gateway's keys cannot be read, UNAVAILABLE.
/// </summary>
internal sealed class CallerPartnerInterceptor(TransactionTokenValidator validator, ILogger<CallerPartnerInterceptor> logger) : GrpcServer.AroundInterceptor
{
    protected override async Task<T> AroundAsync<T>(object? request, ServerCallContext context, Func<Task<T>> handler)
    {
        if (context.GetHttpContext().GetEndpoint()?.Metadata.GetMetadata<CalledByPartnersAttribute>() is not null)
        {
            var verdict = await validator.ValidateAsync(context.RequestHeaders.GetValue(TransactionTokens.Header), context.Method, context.CancellationToken);
            if (verdict.Context is not { } transaction)
            {
                // Who tried, never what they sent: the peer and the reason are enough to follow it up.
                logger.LogWarning("Refused a call to {Method} from {Peer} that the gateway did not vouch for: {Reason}", context.Method, context.Peer, verdict.Error);
                throw new RpcException(new Status(verdict.Unavailable ? StatusCode.Unavailable : StatusCode.Unauthenticated, verdict.Error!));
            }
            CallerPartner.Establish(context, transaction);
        }
        return await handler();
    }
}
