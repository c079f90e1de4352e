using Chain.Common.V1;
using Chain.Registry.V1;
using Ketenmesh.Contracts;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// What a minor's registration sets in motion, and what Nidos, the guardian of unaccompanied foreign
/// minors (alleenstaande minderjarige vreemdelingen, AMV's), may do with the registry: register minors
/// and read minors' registrations, never adults'.
/// </summary>
public static class MinorRules
{
    /// <summary>Minors from this age go to protected shelter; younger children Nidos places with a foster family.</summary>
    /// <remarks>Source: seeds/001…txt L6199–6200: "In de beschermde opvang zitten minderjarigen vanaf dertien jaar. Tot en
    /// met twaalf jaar worden kinderen door Nidos in een opvanggezin geplaatst".</remarks>
    public const int ProtectedShelterFromAge = 13;

    /// <summary>
    /// The guardian to tell of a minor's registration: Nidos, unless the person is known to be Dutch
    /// (<see cref="LegalPathRules.IsDutch"/>: a Dutch child has parents or youth care, not a Nidos
    /// guardian); none for an adult.
    /// </summary>
    /// <remarks>
    /// Source: seeds/001…txt L6174–6176: "Wanneer van AMV’s het vermoeden bestaat dat zij (potentieel) slachtoffer
    /// zijn van mensenhandel, worden zij in de beschermde opvang geplaatst. De beschermde opvang betreft een
    /// samenwerkingsverband tussen het COA, uitvoerende organisatie Stichting Jade Zorggroep en voogdijinstelling
    /// Stichting Nidos." A minor of unknown nationality is told to Nidos too: better a guardian who finds
    /// the child is not theirs than an unaccompanied child nobody hears of.
    /// </remarks>
    public static PartnerType GuardianOf(Registration registration) =>
        (registration.Person?.Minor ?? false) && !LegalPathRules.IsDutch(registration) ? PartnerType.Nidos : PartnerType.Unspecified;

    /// <summary>
    /// Whether the registration calls for protected shelter (beschermde opvang): a minor with Nidos as
    /// guardian, 13 or older or of unknown age (the shelter decides on the spot rather than wait).
    /// </summary>
    /// <remarks>Source: seeds/001…txt L6174–6175 (AMV's suspected to be victims "worden [...] in de beschermde opvang
    /// geplaatst") and L6199–6200 (from thirteen; younger children in a Nidos foster family).</remarks>
    public static bool NeedsProtectedShelter(Registration registration) =>
        GuardianOf(registration) == PartnerType.Nidos && !(registration.Person is { HasAgeAtRegistration: true, AgeAtRegistration: < ProtectedShelterFromAge });

    /// <summary>Nidos may hold a registration only when it is a minor's: its guardianship covers minors alone.</summary>
    /// <remarks>Source: seeds/001…txt L434–435: "Nidos, de voogdij-instelling die in contact komt met alleenstaande
    /// minderjarige vreemdelingen, voortaan (mogelijke) slachtoffers zal melden bij CoMensha"; L5559–5560 (the duty
    /// to report holds "ook voor Nidos waar het gaat om de melding aan CoMensha van AMV’s"); L6182–6183 ("Regievoerder
    /// van de (verbetering van de) ketensamenwerking is Stichting Nidos", for unaccompanied minors). Its task, and so
    /// what it reads, is minors; the sources give it none for adults.</remarks>
    public static bool MayHold(string partnerId, Registration registration) =>
        PartnerTypes.Of(partnerId) != PartnerType.Nidos || (registration.Person?.Minor ?? false);

    /// <summary>Refuses Nidos a registration of an adult (or of someone whose minority nothing shows).</summary>
    /// <remarks>Source: seeds/001…txt L6176, L6182–6183: Nidos is the guardianship institution (voogdijinstelling)
    /// and leads the chain for unaccompanied minors; it has no task for adults.</remarks>
    public static void ThrowUnlessMayRegister(string partnerId, PersonProfile person)
    {
        if (PartnerTypes.Of(partnerId) == PartnerType.Nidos && !person.Minor)
        {
            throw new NotAllowed("Nidos registers minors only: set person.minor, or an age under 18 at registration or at the start of exploitation.");
        }
    }
}
