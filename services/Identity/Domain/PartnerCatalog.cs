using Chain.Common.V1;

namespace Ketenmesh.Identity.Domain;

/// <summary>A partner system that may ask for tokens: who it is and for which purposes (doelen) it may act.</summary>
public sealed record Partner(string Id, string Name, PartnerType Type, IReadOnlySet<Purpose> Purposes);

/// <summary>
/// The chain's partners and the purposes each may declare, from the brief's partner and purpose
/// tables. A token never carries a purpose outside this set; grants narrow it further per method.
/// </summary>
public sealed class PartnerCatalog
{
    readonly Dictionary<string, Partner> _partners;

    public PartnerCatalog(IEnumerable<Partner> partners) =>
        _partners = partners.ToDictionary(p => p.Id, StringComparer.Ordinal);

    public IReadOnlyCollection<Partner> All => _partners.Values;

    public Partner? Find(string id) => _partners.GetValueOrDefault(id);

    /// <summary>The seeded catalog of the local profile.</summary>
    public static PartnerCatalog Seeded { get; } = new(
    [
        Of("police", "Police", PartnerType.Police, Purpose.Signalling, Purpose.CriminalInvestigation),
        Of("kmar", "Royal Marechaussee", PartnerType.Kmar, Purpose.Signalling, Purpose.CriminalInvestigation),
        Of("inspectorate", "Labour Inspectorate", PartnerType.Inspectorate, Purpose.Signalling, Purpose.CriminalInvestigation),
        Of("prosecution", "Public Prosecution Service", PartnerType.Prosecution, Purpose.Signalling, Purpose.CriminalInvestigation),
        Of("ind", "Immigration and Naturalisation Service", PartnerType.Ind, Purpose.Signalling, Purpose.Residence),
        Of("dtv", "Repatriation and Departure Service", PartnerType.Dtv, Purpose.Signalling, Purpose.Return),
        Of("coa", "Central Agency for the Reception of Asylum Seekers", PartnerType.Coa, Purpose.Signalling),
        Of("comensha", "CoMensha", PartnerType.Comensha, Purpose.Signalling, Purpose.VictimCare),
        Of("shelters", "Shelters (COSM and others)", PartnerType.Shelter, Purpose.Signalling, Purpose.VictimCare),
        // Each shelter also signs in as itself: a shelter reports only its own beds and sees only the placements in
        // them, and the service knows which shelter calls only from the verified partner (docs/adr: shelters as partners).
        // The three COSM shelters (BRIEF.md partner table; seeds/001…txt L7886–7888) and a few others.
        Of("shelter-pmw", "COSM De Lucia (PMW, Humanitas Rotterdam)", PartnerType.Shelter, Purpose.VictimCare),
        Of("shelter-acm", "COSM ACM (HVO Querido, Amsterdam)", PartnerType.Shelter, Purpose.VictimCare),
        Of("shelter-jade", "Jade (COSM, men included)", PartnerType.Shelter, Purpose.VictimCare),
        Of("shelter-fier", "Fier", PartnerType.Shelter, Purpose.VictimCare),
        Of("shelter-womens-utrecht", "Women's shelter Utrecht", PartnerType.Shelter, Purpose.VictimCare),
        Of("shelter-social-den-haag", "Social shelter The Hague", PartnerType.Shelter, Purpose.VictimCare),
        Of("municipality", "Municipalities", PartnerType.Municipality, Purpose.Signalling, Purpose.AdministrativeEnforcement),
        Of("riec", "Regional information and expertise centres", PartnerType.Riec, Purpose.Signalling, Purpose.AdministrativeEnforcement),
        Of("care", "Regional care coordinators", PartnerType.Care, Purpose.Signalling, Purpose.VictimCare),
        Of("iom", "IOM", PartnerType.Iom, Purpose.Signalling, Purpose.Return),
        Of("nidos", "Nidos (guardianship for unaccompanied minors)", PartnerType.Nidos, Purpose.Signalling, Purpose.VictimCare),
        Of("rapporteur", "National Rapporteur", PartnerType.Rapporteur, Purpose.Statistics),
        Of("anonymous", "Meld Misdaad Anoniem", PartnerType.Anonymous, Purpose.Signalling),
        // Source: seeds/002…txt L259–261: police and inspectorate pass their signals on to EMM's national
        // reporting point. EMM is part of the police, so it reads them for investigation; it submits none itself.
        Of("emm", "Expertise Centre on Human Trafficking and Smuggling (EMM)", PartnerType.Emm, Purpose.CriminalInvestigation),
    ]);

    static Partner Of(string id, string name, PartnerType type, params Purpose[] purposes) =>
        new(id, name, type, purposes.ToHashSet());
}
