using Ketenmesh.Grpc;

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

    /// <summary>The partner id, or UNAUTHENTICATED: no identity, no access.</summary>
    public static string Require(ServerCallContext context)
    {
        var partner = context.RequestHeaders.GetValue(PartnerHeader);
        if (string.IsNullOrWhiteSpace(partner) || partner.Length > 64)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"The call carries no partner identity ({PartnerHeader}); partners call the mesh through the gateway."));
        }
        return partner;
    }
}
