using Chain.Common.V1;

namespace Ketenmesh.Returns.Domain;

/// <summary>The figures of IOM's voluntary return (REAN) for victims of trafficking.</summary>
public static class ReturnRules
{
    /// <summary>
    /// Source: seeds/001…txt L9785–9786: "In het algemeen streeft IOM ernaar om het vertrek binnen dertig
    /// dagen te realiseren gerekend vanaf de datum van de terugkeeraanvraag."
    /// </summary>
    public const int TargetDays = 30;

    /// <summary>
    /// Source: seeds/001…txt L9472–9473: "monitort IOM de re-integratieondersteuning (indien van
    /// toepassing) tot zes maanden na terugkeer in het land van herkomst."
    /// </summary>
    public const int MonitoringMonths = 6;

    /// <summary>
    /// In-kind support (ondersteuning in natura) for EU nationals, in euro cents. Source: seeds/001…txt
    /// L9496–9497: "Voor slachtoffers die EU-onderdanen zijn bestaat een in natura ondersteuning ten
    /// bedrage van maximaal 500 euro".
    /// </summary>
    public const long EuSupportCapCents = 500_00;

    /// <summary>Source: seeds/001…txt L9498–9499: "Voor slachtoffers van buiten de EU ligt dit budget doorgaans hoger (1500 euro)."</summary>
    public const long OtherSupportCapCents = 1_500_00;

    /// <summary>The 27 EU member states, ISO 3166-1 alpha-2.</summary>
    public static readonly IReadOnlySet<string> EuMemberStates = new HashSet<string>(StringComparer.Ordinal)
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
        "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    };

    /// <summary>The most in-kind support IOM gives a person of this nationality.</summary>
    public static Money SupportCapFor(string nationalityCountryCode) => new()
    {
        CurrencyCode = "EUR",
        AmountMinorUnits = EuMemberStates.Contains(nationalityCountryCode) ? EuSupportCapCents : OtherSupportCapCents,
    };

    public static bool IsCountryCode(string code) => code.Length == 2 && code.All(c => c is >= 'A' and <= 'Z');
}
