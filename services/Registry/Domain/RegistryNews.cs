using Chain.Events.V1;
using Chain.Registry.V1;
using Google.Protobuf.WellKnownTypes;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// What the registry tells the chain about a person's legal position and consents, so services that
/// act on them (return coordination) keep their own copy instead of calling the registry.
/// Classifications and ids only: no dates of birth, no document references.
/// </summary>
public static class RegistryNews
{
    public static ResidenceStatusRecorded ResidenceStatusRecorded(Registration registration, Timestamp now) => new()
    {
        EventId = Guid.CreateVersion7().ToString(),
        OccurredAt = now,
        RegistrationId = registration.RegistrationId,
        RegistrationVersion = registration.Version,
        LegalStay = registration.Residence?.LegalStay ?? LegalStay.Unspecified,
        TemporaryResidenceDecision = registration.Residence?.TemporaryResidence?.Decision ?? ResidenceDecision.Unspecified,
        ContinuedResidenceDecision = registration.Residence?.ContinuedResidence?.Decision ?? ResidenceDecision.Unspecified,
    };

    /// <summary>Source: seeds/001…txt L9765–9766: IOM tells CoMensha of a return "op basis van een schriftelijke toestemming van het slachtoffer".</summary>
    public static ConsentChanged ConsentChanged(Consent consent, long version, Timestamp now) => new()
    {
        EventId = Guid.CreateVersion7().ToString(),
        OccurredAt = now,
        ConsentId = consent.ConsentId,
        RegistrationId = consent.RegistrationId,
        Giver = consent.Giver,
        DisclosingPartner = consent.DisclosingPartner,
        RecipientPartner = consent.RecipientPartner,
        Topics = { consent.Topics },
        Form = consent.Form,
        State = consent.State,
        ValidUntil = consent.ValidUntil,
        Version = version,
    };
}
