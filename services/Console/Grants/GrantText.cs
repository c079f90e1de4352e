using System.Text.RegularExpressions;
using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf;
using Ketenmesh.Policy;

namespace Ketenmesh.OfficerConsole.Grants;

/// <summary>How the console writes grants, states and purposes for officers.</summary>
public static partial class GrantText
{
    public static string Purpose(Purpose purpose) => purpose == Chain.Common.V1.Purpose.Unspecified ? "(none)" : PurposeNames.ToScope(purpose);

    public static IReadOnlyList<Purpose> Purposes { get; } = Enum.GetValues<Purpose>().Where(p => p != Chain.Common.V1.Purpose.Unspecified).ToList();

    public static string State(GrantState state) => state switch
    {
        GrantState.Draft => "draft",
        GrantState.Approved => "approved",
        GrantState.Published => "published",
        GrantState.Superseded => "superseded",
        GrantState.Revoked => "revoked",
        _ => "unknown",
    };

    public static string When(Google.Protobuf.WellKnownTypes.Timestamp? at) =>
        at is null ? "" : at.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithIndentation());

    /// <summary>A grant as protobuf JSON, one field a line: what the version diff compares.</summary>
    public static string ToJson(Grant grant) => Json.Format(grant);

    /// <summary>The editor's own label for each of a grant's fields, as the policy service names them in a refusal.</summary>
    static readonly Dictionary<string, string> Labels = new(StringComparer.Ordinal)
    {
        ["grant_id"] = "Grant id",
        ["partner_id"] = "Partner",
        ["purpose"] = "Purpose",
        ["legal_basis"] = "Legal basis",
        ["covenant_reference"] = "Covenant reference",
        ["valid_from"] = "Valid from",
        ["valid_until"] = "Valid until",
        ["methods"] = "Methods",
        ["confidential"] = "Confidential",
        ["require_certificate_binding"] = "Requires a certificate-bound token",
        ["response_mask"] = "Response fields",
        ["required_request_fields"] = "Request fields that must be set",
    };

    /// <summary>
    /// A field violation of a drafted grant in the editor's words: <c>grant.methods[0].response_mask</c> becomes
    /// "Response fields of chain.risk.v1.RiskAssessment/ListRuleSets", and a field named in the description reads
    /// as its label, so an officer finds the control to change.
    /// </summary>
    public static string Violation(Grant grant, string field, string description)
    {
        if (description.StartsWith(OtherGrant, StringComparison.Ordinal))
        {
            // A problem this draft causes in another of the partner's grants: the field is that grant's, and its
            // method index is no method of this draft. The service's sentence names the grant; it is said as it is.
            return "With this draft, grant " + description[OtherGrant.Length..];
        }

        string label;
        if (MethodPath().Match(field) is { Success: true } rule)
        {
            var index = int.Parse(rule.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
            label = $"{LabelOf(rule.Groups["field"].Value)} of {(index < grant.Methods.Count ? grant.Methods[index].Method : "a method")}";
        }
        else
        {
            label = LabelOf(field.StartsWith("grant.", StringComparison.Ordinal) ? field["grant.".Length..] : field);
        }

        var words = FieldName().Replace(description, m => Labels.TryGetValue(m.Value, out var named) ? named.ToLowerInvariant() : m.Value);
        return $"{label}: {words}";
    }

    /// <summary>How the policy service begins a problem the draft causes in another grant of the partner.</summary>
    const string OtherGrant = "with this draft, grant ";

    static string LabelOf(string field) => Labels.GetValueOrDefault(field, field);

    [GeneratedRegex(@"^grant\.methods\[(?<index>\d+)\]\.(?<field>[a-z_]+)$")]
    private static partial Regex MethodPath();

    // A field name standing alone: not a segment of a dotted path such as registration.valid_until.
    [GeneratedRegex(@"(?<![\w.])[a-z]+(_[a-z]+)+(?![\w.])")]
    private static partial Regex FieldName();

    public static string Short(string versionHash) => versionHash.Length > 12 ? versionHash[..12] : versionHash;
}
