using Chain.Shelter.V1;
using Ketenmesh.Shelter.Persistence;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// Which requests only a secured shelter's bed will do for: someone under acute threat, and a minor, who goes to
/// protected shelter (beschermde opvang), never to an open bed.
/// </summary>
public static class ProtectedShelter
{
    /// <summary>
    /// Secured only when the needs ask for it (acute threat), or for a minor: as the request says (needs.minor, or a
    /// bed for minors) or as the registry told this service in its admission facts. The registry sets that flag from
    /// either age (under 18 at registration or at the start of exploitation), so it covers every registration whose
    /// VictimRegistered asks for protected shelter (a Nidos minor of 13 or older), which this service does not hear.
    /// </summary>
    /// <remarks>Source: seeds/001…txt L6174–6175: "Wanneer van AMV’s het vermoeden bestaat dat zij (potentieel) slachtoffer
    /// zijn van mensenhandel, worden zij in de beschermde opvang geplaatst."</remarks>
    public static bool SecuredOnly(PlacementNeeds needs, AdmissionFactsRow? facts) =>
        needs.SecuredRequired || needs.Minor || needs.Category == ShelterCategory.Minors || (facts?.Minor ?? false);
}
