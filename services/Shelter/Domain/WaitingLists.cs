using Chain.Shelter.V1;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// CoMensha's three waiting lists. Source: seeds/001…txt L7986–7988: "door CoMensha … besloten om drie
/// wachtlijsten te hanteren"; L7991–8003: the COSM list, the list for women's or social shelter, and the
/// list of asylum seekers in reception (AZC) without a suitable place.
/// </summary>
public static class WaitingLists
{
    /// <summary>The list a request waits on when no bed of its category is free.</summary>
    public static WaitingList For(PlacementNeeds needs) =>
        needs.InAsylumReception ? WaitingList.AsylumReceptionNoSuitablePlace
        : needs.Category == ShelterCategory.Cosm ? WaitingList.CosmEligible
        : WaitingList.WomensOrSocialShelter;
}
