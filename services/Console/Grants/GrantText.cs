using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf;
using Ketenmesh.Policy;

namespace Ketenmesh.OfficerConsole.Grants;

/// <summary>How the console writes grants, states and purposes for officers.</summary>
public static class GrantText
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

    public static string Short(string versionHash) => versionHash.Length > 12 ? versionHash[..12] : versionHash;
}
