using Chain.Common.V1;
using Ketenmesh.Contracts;
using Ketenmesh.Policy;

namespace Ketenmesh.Signals.Domain;

/// <summary>
/// Whose signals a partner reads besides its own. Source: seeds/002…txt L259–261: "De politie en de Inspectie
/// SZW geven de signalen door aan het landelijke meldpunt van het Expertisecentrum Mensenhandel en
/// Mensensmokkel (EMM)." EMM is part of the police, so it reads them for criminal investigation only.
/// </summary>
public static class SignalRouting
{
    private static readonly PartnerType[] PassedOnToEmm = [PartnerType.Police, PartnerType.Inspectorate];

    /// <summary>
    /// Whether <paramref name="partnerId"/>, reading for <paramref name="purpose"/> (the scope the gateway put in
    /// the transaction token), reads a signal <paramref name="submitterPartnerId"/> submitted.
    /// </summary>
    public static bool MayRead(string partnerId, string purpose, string submitterPartnerId) =>
        submitterPartnerId == partnerId
        || (PartnerTypes.Of(partnerId) == PartnerType.Emm
            && PurposeNames.TryParse(purpose, out var read) && read == Purpose.CriminalInvestigation
            && PassedOnToEmm.Contains(PartnerTypes.Of(submitterPartnerId)));
}
