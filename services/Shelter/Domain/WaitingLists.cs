using Chain.Shelter.V1;

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
}
