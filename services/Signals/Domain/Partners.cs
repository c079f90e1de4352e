using Chain.Common.V1;

namespace Ketenmesh.Signals.Domain;

/// <summary>Partner catalog ids (as the gateway names callers) to the contract's partner types.</summary>
public static class Partners
{
    public static PartnerType TypeOf(string partnerId) =>
        Enum.TryParse<PartnerType>(partnerId.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var type) && type != PartnerType.Unspecified
            ? type
            : PartnerType.Unspecified;
}
