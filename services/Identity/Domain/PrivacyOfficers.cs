namespace Ketenmesh.Identity.Domain;

/// <summary>
/// The privacy officers (functionarissen gegevensbescherming) who administer sharing policy. The local
/// profile seeds two, so four-eyes approval can be tried: one drafts, the other approves.
/// </summary>
public static class PrivacyOfficers
{
    /// <summary>The only scope an officer's token carries; the sharing-policy service requires it.</summary>
    public const string Scope = "policy_admin";

    public static IReadOnlyList<string> Seeded { get; } = ["privacy-officer-1", "privacy-officer-2"];

    /// <summary>One of the seeded officers, whom scripts and tests get tokens for; whether an account exists now, seeded or
    /// added, is <see cref="OfficerPasswords.IsOfficer"/>.</summary>
    public static bool IsOfficer(string id) => Seeded.Contains(id);
}
