namespace Ketenmesh.Signals.Domain;

/// <summary>
/// Whose signals a partner reads besides its own. Source: seeds/002…txt L259–261: "De politie en de Inspectie
/// SZW geven de signalen door aan het landelijke meldpunt van het Expertisecentrum Mensenhandel en
/// Mensensmokkel (EMM)." EMM is part of the police, so it reads them for criminal investigation only.
/// </summary>
public static class SignalRouting
{
    public const string EmmPartnerId = "emm";

    /// <summary>The purpose as the gateway names it in the transaction token.</summary>
    public const string CriminalInvestigation = "criminal_investigation";

    private static readonly string[] PassedOnToEmm = ["police", "inspectorate"];

    /// <summary>The submitting partners whose signals <paramref name="partnerId"/> reads for <paramref name="purpose"/>.</summary>
    public static IReadOnlyList<string> ReadableSubmitters(string partnerId, string purpose) =>
        partnerId == EmmPartnerId && purpose == CriminalInvestigation ? PassedOnToEmm : [];
}
