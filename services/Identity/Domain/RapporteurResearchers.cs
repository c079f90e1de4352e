namespace Ketenmesh.Identity.Domain;

/// <summary>
/// The National Rapporteur's researchers (onderzoekers), who read the chain's statistics in the console. Each signs in
/// as themselves, and their token acts for the partner <c>rapporteur</c>: its <c>sub</c> is the partner, so the gateway
/// applies the Rapporteur's grant, mask and audit record as to the Rapporteur's own systems, and it carries the scope
/// <c>statistics</c> only. Which researcher it was stays in the token (<see cref="Claim"/>). The local profile seeds one.
/// </summary>
public static class RapporteurResearchers
{
    public const string Scope = "statistics";

    public const string PartnerId = "rapporteur";

    public const string PartnerType = "rapporteur";

    /// <summary>The researcher a Rapporteur's token was issued to, beside the partner in <c>sub</c>.</summary>
    public const string Claim = "researcher";

    public static IReadOnlyList<string> Seeded { get; } = ["rapporteur-researcher-1"];

    public static bool IsResearcher(string id) => Seeded.Contains(id);
}
