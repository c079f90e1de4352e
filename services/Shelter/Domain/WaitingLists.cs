using Chain.Shelter.V1;
using Ketenmesh.Shelter.Persistence;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// CoMensha's three waiting lists. Source: seeds/001…txt L7986–7988: "door CoMensha … besloten om drie
/// wachtlijsten te hanteren"; L7991–8003: the COSM list, the list for women's or social shelter, and the
/// list of asylum seekers in reception (AZC) without a suitable place.
/// </summary>
public static class WaitingLists
{
    /// <summary>
    /// The list a request waits on: the COSM list only for a COSM request that meets the criteria; someone in
    /// asylum reception on the third list; everyone else needs a place in women's or social shelter.
    /// </summary>
    public static WaitingList For(PlacementNeeds needs, bool notAdmittedToCosm) =>
        needs.InAsylumReception ? WaitingList.AsylumReceptionNoSuitablePlace
        : needs.Category == ShelterCategory.Cosm && !notAdmittedToCosm ? WaitingList.CosmEligible
        : WaitingList.WomensOrSocialShelter;

    /// <summary>
    /// Whether a free bed of <paramref name="bedCategory"/> suits a request waiting on a list. A COSM bed suits only
    /// the COSM list. Any other bed suits a request for its category; and a COSM request that waits on another list
    /// (not admitted, or living in asylum reception) needs the bed its fallback category names (a place for minors
    /// when it was refused as a minor): a woman refused COSM is not held a men's bed ahead of the men waiting for it.
    /// The shelter the bed is in still confirms or declines the hold.
    /// </summary>
    public static bool Suits(int bedCategory, PlacementRow waiting)
    {
        if (bedCategory == (int)ShelterCategory.Cosm || waiting.Category == bedCategory)
        {
            return bedCategory == (int)ShelterCategory.Cosm == (waiting.WaitingList == (int)WaitingList.CosmEligible);
        }
        if (waiting.Category != (int)ShelterCategory.Cosm || waiting.WaitingList == (int)WaitingList.CosmEligible)
        {
            return false;
        }
        var minor = waiting.Ineligibility.Split(',').Contains(((int)CosmIneligibility.Minor).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return minor
            ? bedCategory == (int)ShelterCategory.Minors
            : bedCategory == (int)PlacementNeeds.Parser.ParseFrom(waiting.Needs).FallbackCategory;
    }

    /// <summary>What a request's needs must say about the bed to use instead of COSM; every problem with its field.</summary>
    public static IEnumerable<(string Field, string Description)> ValidateFallback(PlacementNeeds needs)
    {
        var fallback = needs.FallbackCategory;
        if (needs.Category != ShelterCategory.Cosm)
        {
            if (fallback != ShelterCategory.Unspecified)
            {
                yield return ("needs.fallback_category", "is only for a COSM request; leave it unset.");
            }
        }
        else if (fallback is ShelterCategory.Unspecified or ShelterCategory.Cosm || !System.Enum.IsDefined(fallback))
        {
            // Without it a request not admitted to COSM would not say which bed it needs, and would be matched to any.
            yield return ("needs.fallback_category", "is required with category COSM: the category of bed needed when not admitted to COSM (e.g. ADULT_WOMEN), not COSM itself.");
        }
    }
}
