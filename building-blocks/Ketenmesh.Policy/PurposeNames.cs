using Chain.Common.V1;
using Google.Protobuf.Reflection;

namespace Ketenmesh.Policy;

/// <summary>
/// Purposes as OAuth scope values: the brief's names (<c>criminal_investigation</c>), which are also
/// the proto enum names without their prefix, so token, metadata and contracts spell them alike.
/// </summary>
public static class PurposeNames
{
    const string Prefix = "PURPOSE_";

    static readonly EnumDescriptor Descriptor = PartnersReflection.Descriptor.FindTypeByName<EnumDescriptor>("Purpose");

    public static string ToScope(Purpose purpose) =>
        Descriptor.FindValueByNumber((int)purpose).Name[Prefix.Length..].ToLowerInvariant();

    public static bool TryParse(string scope, out Purpose purpose)
    {
        var value = Descriptor.FindValueByName(Prefix + scope.ToUpperInvariant());
        purpose = value is null ? Purpose.Unspecified : (Purpose)value.Number;
        return value is not null && purpose != Purpose.Unspecified && scope == scope.ToLowerInvariant();
    }
}
