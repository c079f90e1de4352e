using Chain.Common.V1;
using Chain.Registry.V1;
using Ketenmesh.Contracts;

namespace Ketenmesh.Registry.Domain;

/// <summary>What a new consent must say: who gave it, who may tell whom, what about, in what form, from when.</summary>
public static class ConsentRules
{
    public static void NewConsentProblems(Consent consent, DateOnly today, List<(string Field, string Description)> problems)
    {
        if (string.IsNullOrWhiteSpace(consent.RegistrationId))
        {
            problems.Add(("consent.registration_id", "is required."));
        }
        if (consent.Giver == ConsentGiver.Unspecified || !Enum.IsDefined(consent.Giver))
        {
            problems.Add(("consent.giver", "must be VICTIM, LEGAL_REPRESENTATIVE or SUPPLYING_PARTNER."));
        }
        else if ((consent.Giver == ConsentGiver.SupplyingPartner) != (consent.GivingPartner != PartnerType.Unspecified))
        {
            problems.Add(("consent.giving_partner", "names the supplying partner when, and only when, the giver is SUPPLYING_PARTNER."));
        }
        if (!Known(consent.DisclosingPartner))
        {
            problems.Add(("consent.disclosing_partner", "must name the partner type that may disclose."));
        }
        if (!Known(consent.RecipientPartner))
        {
            problems.Add(("consent.recipient_partner", "must name the partner type that may be told."));
        }
        else if (consent.RecipientPartner == consent.DisclosingPartner)
        {
            problems.Add(("consent.recipient_partner", "must differ from the disclosing partner."));
        }
        if (consent.Topics.Count == 0 || consent.Topics.Any(t => t == DisclosureTopic.Unspecified || !Enum.IsDefined(t)) || consent.Topics.Distinct().Count() != consent.Topics.Count)
        {
            problems.Add(("consent.topics", "name each topic that may be disclosed once (e.g. RETURN, REGISTRATION_STATUS)."));
        }
        if (consent.Form == ConsentForm.Unspecified || !Enum.IsDefined(consent.Form))
        {
            problems.Add(("consent.form", "must be WRITTEN or ORAL_RECORDED."));
        }
        else if (consent.Form == ConsentForm.Written && string.IsNullOrWhiteSpace(consent.DocumentReference))
        {
            problems.Add(("consent.document_reference", "is required for a written consent: where the signed form is kept (a reference, not the form)."));
        }
        if (consent.DocumentReference.Length > 200)
        {
            problems.Add(("consent.document_reference", "must be at most 200 characters."));
        }
        if (consent.State is not (ConsentState.Unspecified or ConsentState.Given))
        {
            problems.Add(("consent.state", "is GIVEN (or left out) for a new consent; withdraw one by its consent_id."));
        }
        var given = consent.GivenOn.ToDateOnly();
        if (given is null || given > today)
        {
            problems.Add(("consent.given_on", "is required: a whole calendar day, not in the future."));
        }
        if (consent.ValidUntil is not null && (consent.ValidUntil.ToDateOnly() is not { } until || until < given))
        {
            problems.Add(("consent.valid_until", "must be a whole calendar day from given_on on, or left out (until withdrawn)."));
        }
        if (consent.WithdrawnOn is not null)
        {
            problems.Add(("consent.withdrawn_on", "belongs to a withdrawal, not to a new consent."));
        }
    }

    private static bool Known(PartnerType partner) => partner != PartnerType.Unspecified && Enum.IsDefined(partner);
}
