using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Risk.V1;

namespace Ketenmesh.Registry.Domain;

/// <summary>What becomes of an assessed signal at CoMensha.</summary>
public enum SignalRegistration
{
    /// <summary>Registered, or linked to the open registration its link keys match.</summary>
    RegisterOrLink,

    /// <summary>Linked when its link keys match an open registration; otherwise kept on file, where a re-assessment may still lift it.</summary>
    LinkOnly,
}

/// <summary>
/// The duty to report (meldplicht) to CoMensha, and the rule for partners without it (docs/adr, "registration
/// duty"). The risk band decides priority and track, never whether a duty-bound signal is registered.
/// </summary>
public static class RegistrationDuty
{
    /// <summary>Below this band a signal from a partner without the duty is not registered on its own.</summary>
    public const RiskBand VoluntaryRegistrationBand = RiskBand.Medium;

    /// <summary>
    /// Source: seeds/001…txt L5548–5551: "De politie, de Koninklijke Marechaussee (KMar) en de Inspectie SZW
    /// hebben een meldplicht – bij de geringste aanwijzing van slachtofferschap mensenhandel – aan CoMensha";
    /// L5556–5557: "evenzeer voor Nederlandse (mogelijke) slachtoffers", so nationality plays no part.
    /// </summary>
    private static readonly HashSet<PartnerType> DutyBound = [PartnerType.Police, PartnerType.Kmar, PartnerType.Inspectorate];

    /// <summary>
    /// Whether the submitting partner must report this signal. Nidos for minors: source seeds/001…txt
    /// L5559–5560: "Dit geldt uiteraard ook voor Nidos waar het gaat om de melding aan CoMensha van AMV’s"
    /// (unaccompanied minors; Nidos is their guardian, so a minor in its signal is one of them).
    /// </summary>
    public static bool Applies(SignalReceived signal, RiskAssessed assessment) =>
        DutyBound.Contains(signal.ReporterPartner)
        || (signal.ReporterPartner == PartnerType.Nidos && IsAboutMinor(signal, assessment));

    /// <summary>
    /// Duty-bound signals are registered (or linked) at the slightest indication, whatever their band.
    /// Others: the Rapporteur asks every organisation, duty or not, to report every signalled possible victim
    /// (seeds/001…txt L5541–5544, L6115–6116), but without a duty there is no legal ground to register a person
    /// on a signal the assessment finds little in. So: registered from MEDIUM or with an escalation (a minor,
    /// acute danger), and below that linked to a registration that already exists for the person, which
    /// counts no one twice and records nobody new.
    /// </summary>
    public static SignalRegistration Decide(SignalReceived signal, RiskAssessed assessment) =>
        Applies(signal, assessment) || assessment.Band >= VoluntaryRegistrationBand || assessment.EscalationFlags.Count > 0
            ? SignalRegistration.RegisterOrLink
            : SignalRegistration.LinkOnly;

    public static bool IsAboutMinor(SignalReceived signal, RiskAssessed assessment) =>
        signal.MinorSuspected || assessment.EscalationFlags.Contains(EscalationFlag.Minor);
}
