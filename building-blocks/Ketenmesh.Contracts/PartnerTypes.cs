using Chain.Common.V1;

namespace Ketenmesh.Contracts;

/// <summary>Partner catalog ids (as the gateway names callers, e.g. <c>police</c>) to the contracts' partner types.</summary>
public static class PartnerTypes
{
    public static PartnerType Of(string partnerId) =>
        // The catalog names the shelters as a group and each shelter as itself (shelter-<name>); the contracts call the type SHELTER.
        partnerId == "shelters" || partnerId.StartsWith("shelter-", StringComparison.Ordinal) ? PartnerType.Shelter
        : Enum.TryParse<PartnerType>(partnerId.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var type) && type != PartnerType.Unspecified
            ? type
            : PartnerType.Unspecified;
}
