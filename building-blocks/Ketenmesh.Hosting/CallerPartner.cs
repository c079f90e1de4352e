using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Ketenmesh.Hosting;

/// <summary>
/// Who is calling, as the gateway vouches for it. Partners reach services only through the gateway,
/// which authenticates them, strips any inbound copy of these headers and sets them itself.
/// </summary>
public static class CallerPartner
{
    /// <summary>Catalog id of the calling partner, e.g. <c>police</c>, <c>inspectorate</c>, <c>anonymous</c>.</summary>
    public const string PartnerHeader = "x-chain-partner-id";

    /// <summary>The purpose (doelbinding) the gateway checked the call against.</summary>
    public const string PurposeHeader = "x-chain-purpose";

    /// <summary>The grant that allowed the call.</summary>
    public const string GrantHeader = "x-chain-grant-id";

    private const string UserStateKey = "chain.partner";

    /// <summary>
    /// The calling partner of a service marked <see cref="CalledByPartnersAttribute"/>; the caller interceptor
    /// has checked it before the method ran.
    /// </summary>
    public static string Partner(this ServerCallContext context) =>
        context.UserState.TryGetValue(UserStateKey, out var partner) && partner is string id
            ? id
            : throw new InvalidOperationException($"{context.Method} is not marked [{nameof(CalledByPartnersAttribute)}], so it has no caller partner.");

    /// <summary>The partner id from the call's headers, or UNAUTHENTICATED: no identity, no access.</summary>
    internal static void Establish(ServerCallContext context)
    {
        var partner = context.RequestHeaders.GetValue(PartnerHeader);
        if (string.IsNullOrWhiteSpace(partner) || partner.Length > 64)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"The call carries no partner identity ({PartnerHeader}); partners call the mesh through the gateway."));
        }
        context.UserState[UserStateKey] = partner;
    }
}

/// <summary>Marks a gRPC service whose every method is called by a partner, through the gateway.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class CalledByPartnersAttribute : Attribute;

/// <summary>Establishes the caller partner for every call of a service marked <see cref="CalledByPartnersAttribute"/>.</summary>
internal sealed class CallerPartnerInterceptor : GrpcServer.AroundInterceptor
{
    protected override Task<T> AroundAsync<T>(object? request, ServerCallContext context, Func<Task<T>> handler)
    {
        if (context.GetHttpContext().GetEndpoint()?.Metadata.GetMetadata<CalledByPartnersAttribute>() is not null)
        {
            CallerPartner.Establish(context);
        }
        return handler();
    }
}
