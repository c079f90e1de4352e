using Chain.Common.V1;
using Chain.Registry.V1;
using Ketenmesh.Contracts;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// Who the reflection period and the B8/3 and continued-residence schemes are for, and which partner
/// gives which statement on the way. The one place these rules live; the legal path
/// (<see cref="ReflectionAndResidence"/>) and merges (<see cref="Linkage"/>) ask here.
/// </summary>
public static class LegalPathRules
{
    /// <summary>Years on the B8/3 scheme after which continued residence may be granted without a conviction.</summary>
    public const int YearsOnScheme = 3;

    /// <summary>
    /// Only a person without Dutch nationality (a vreemdeling) has a reflection period or needs a B8/3
    /// permit. Dutch is what the IND recorded as the legal stay, or a Dutch nationality shown by a
    /// document under the person's own identity (a declared one or one under an alias the police check first).
    /// EU citizens are foreign nationals and are included: see docs/adr/0009-eu-citizens-on-the-trafficking-residence-scheme.md.
    /// </summary>
    /// <remarks>
    /// Source: seeds/001…txt L7243–7245: "moet de politie de vreemdeling wijzen op het recht op maximaal drie
    /// maanden bedenktijd"; L7408–7411: "ook EU-onderdanen kunnen immers rechten ontlenen aan de bepalingen
    /// die zijn neergelegd in de verblijfsregeling voor slachtoffers van mensenhandel".
    /// </remarks>
    public static bool IsDutch(Registration registration) =>
        registration.Residence?.LegalStay == LegalStay.DutchNational
        || (registration.Person?.Nationalities.Any(n => n is { CountryCode: "NL", Basis: NationalityBasis.Documented, Alias: false }) ?? false);

    /// <summary>
    /// Aangifte applies for B8/3 by itself for a foreign national, EU citizens included (see
    /// <see cref="IsDutch"/>), unless the person already holds the permit or an application is on file.
    /// </summary>
    /// <remarks>
    /// Source: seeds/001…txt L7246–7248: "Als het slachtoffer besluit aangifte te doen … krijgt hij of zij van de
    /// Immigratie- en Naturalisatiedienst (IND) een tijdelijke verblijfsvergunning in overeenstemming met
    /// hoofdstuk B8/3 Vc."
    /// </remarks>
    public static bool AangifteAppliesForTemporaryResidence(Registration registration) =>
        !IsDutch(registration)
        && registration.Residence?.LegalStay != LegalStay.TraffickingVictimPermit
        && registration.Residence?.TemporaryResidence is null;

    /// <summary>
    /// The police point the person out to the reflection period, and so start it; the marechaussee, which
    /// meets victims at the border with the same police task, does too. Not CoMensha, the OM or the IND.
    /// </summary>
    /// <remarks>Source: seeds/001…txt L7243–7245: "Bij de geringste aanwijzing … moet de politie de vreemdeling wijzen op het recht op maximaal drie maanden bedenktijd".</remarks>
    public static bool StartsReflectionPeriod(PartnerType partner) => partner is PartnerType.Police or PartnerType.Kmar;

    /// <summary>
    /// The partners whose statement of each kind counts; each records its own.
    /// </summary>
    /// <remarks>
    /// Detention consent — Source: seeds/001…txt L6395–6396: "verleent de Immigratie en Naturalisatiedienst (IND)
    /// de bedenktijd uitsluitend als het OM en de politie hiermee akkoord gaan".
    /// Serious threat — Source: seeds/001…txt L7199–7201: "gebaseerd op een verklaring van de politie dat het om een
    /// slachtoffer van mensenhandel gaat en sprake is van een ernstige bedreiging".
    /// Medical or psychological limits — Source: seeds/001…txt L7201–7202: "Of een medische of psychische beperking
    /// aanwezig is wordt beoordeeld door een daartoe geëigende deskundige"; the chain's experts on the person's
    /// health are the regional care coordinators and the shelters that treat the person.
    /// Conviction — Source: seeds/001…txt L7383: "De strafzaak heeft uiteindelijk geleid tot een onherroepelijke
    /// veroordeling"; the OM is the party to the criminal case.
    /// </remarks>
    public static IReadOnlySet<PartnerType> GivenBy(LegalStatementKind kind) => kind switch
    {
        LegalStatementKind.DetentionReflectionConsent => DetentionConsenters,
        LegalStatementKind.SeriousThreat => PoliceOnly,
        LegalStatementKind.MedicalPsychologicalLimits => HealthExperts,
        LegalStatementKind.Conviction => ProsecutionOnly,
        _ => Nobody,
    };

    private static readonly IReadOnlySet<PartnerType> PoliceOnly = new HashSet<PartnerType> { PartnerType.Police };
    private static readonly IReadOnlySet<PartnerType> HealthExperts = new HashSet<PartnerType> { PartnerType.Care, PartnerType.Shelter };
    private static readonly IReadOnlySet<PartnerType> ProsecutionOnly = new HashSet<PartnerType> { PartnerType.Prosecution };
    private static readonly IReadOnlySet<PartnerType> Nobody = new HashSet<PartnerType>();

    /// <summary>Both must have consented before a period in immigration detention starts.</summary>
    /// <remarks>Source: seeds/001…txt L6395–6396: "uitsluitend als het OM en de politie hiermee akkoord gaan".</remarks>
    public static readonly IReadOnlySet<PartnerType> DetentionConsenters = new HashSet<PartnerType> { PartnerType.Prosecution, PartnerType.Police };

    /// <summary>Partner types whose detention consent is still missing.</summary>
    public static IEnumerable<PartnerType> MissingDetentionConsents(Registration registration) =>
        DetentionConsenters.Where(p => !registration.LegalStatements.Any(s => s.Kind == LegalStatementKind.DetentionReflectionConsent && s.GivenBy == p)).Order();

    /// <summary>
    /// B8/3 without aangifte stands on a recorded statement: a serious threat on the police statement, medical
    /// or psychological limits on an expert's view. Null when the ground needs none or it is recorded.
    /// </summary>
    /// <remarks>
    /// Source: seeds/001…txt L7196–7202: "De voorwaarden hiervoor zijn dat het slachtoffer dit niet kan of wil doen
    /// vanwege ernstige bedreigingen of vanwege medische of psychische beperkingen. Een uiteindelijke beslissing is
    /// gebaseerd op een verklaring van de politie … Of een medische of psychische beperking aanwezig is wordt
    /// beoordeeld door een daartoe geëigende deskundige."
    /// </remarks>
    public static string? TemporaryResidenceRefusal(Registration registration, TemporaryResidence temporary)
    {
        var needed = temporary.Ground switch
        {
            TemporaryResidenceGround.SeriousThreat => LegalStatementKind.SeriousThreat,
            TemporaryResidenceGround.MedicalPsychological => LegalStatementKind.MedicalPsychologicalLimits,
            _ => LegalStatementKind.Unspecified,
        };
        if (needed == LegalStatementKind.Unspecified || registration.LegalStatements.Any(s => s.Kind == needed))
        {
            return null;
        }
        return needed == LegalStatementKind.SeriousThreat
            ? "B8/3 on ground SERIOUS_THREAT stands on the police statement of a serious threat; the police record it with RecordLegalStatement (SERIOUS_THREAT) first."
            : "B8/3 on ground MEDICAL_PSYCHOLOGICAL stands on an expert's view of the limits; the care or shelter partner records it with RecordLegalStatement (MEDICAL_PSYCHOLOGICAL_LIMITS) first.";
    }

    /// <summary>
    /// Continued residence is granted on a final conviction, recorded by the OM, or after three years on the
    /// B8/3 permit, counted from the day the permit was granted to the day continued residence is decided.
    /// Null when the grant may stand; applying (PENDING) is never refused here.
    /// </summary>
    /// <remarks>
    /// Source: seeds/001…txt L7383–7388: "(1) De strafzaak heeft uiteindelijk geleid tot een onherroepelijke
    /// veroordeling; (2) … het slachtoffer verblijft op het moment van de rechterlijke uitspraak al drie jaar of
    /// langer op basis van een verblijfsvergunning op grond van het beleid over mensenhandel in Nederland; (3) of
    /// er loopt een strafzaak en het slachtoffer verblijft drie jaar op basis van een verblijfsvergunning".
    /// </remarks>
    public static string? ContinuedResidenceRefusal(Registration registration, ContinuedResidence continued, DateOnly today)
    {
        if (continued.Decision != ResidenceDecision.Granted)
        {
            return null;
        }
        switch (continued.Ground)
        {
            case ContinuedResidenceGround.Conviction:
                return registration.LegalStatements.Any(s => s.Kind == LegalStatementKind.Conviction)
                    ? null
                    : "Continued residence on ground CONVICTION needs the conviction, recorded by the OM with RecordLegalStatement (CONVICTION).";
            case ContinuedResidenceGround.ThreeYearsOnScheme:
                var permit = registration.Residence?.TemporaryResidence;
                var decided = continued.DecidedOn?.ToDateOnly() ?? today;
                if (permit is not { Decision: ResidenceDecision.Granted } || permit.DecidedOn?.ToDateOnly() is not { } granted)
                {
                    return $"Continued residence on ground THREE_YEARS_ON_SCHEME needs a granted B8/3 permit with its decided_on, {YearsOnScheme} years before.";
                }
                return granted.AddYears(YearsOnScheme) <= decided
                    ? null
                    : $"Continued residence on ground THREE_YEARS_ON_SCHEME needs {YearsOnScheme} years on the B8/3 permit; the decision is before that.";
            default:
                return "Continued residence is granted on ground CONVICTION or THREE_YEARS_ON_SCHEME.";
        }
    }
}
