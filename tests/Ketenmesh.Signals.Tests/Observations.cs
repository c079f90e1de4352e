using Chain.Common.V1;
using Chain.Signals.V1;
using Google.Protobuf;

namespace Ketenmesh.Signals.Tests;

/// <summary>Realistic observations from the brief: an inspection, a police check, an anonymous tip.</summary>
public static class Observations
{
    public static SignalObservation LabourInspection(int worker = 1) => new()
    {
        Channel = SignalChannel.Inspectorate,
        ReporterType = ReporterType.Professional,
        ObservedIndicators =
        {
            Indicator.DependencyEmployerArrangesLiving,
            Indicator.FreedomNoOwnIdPapers,
            Indicator.ConditionsExcessiveHours,
            Indicator.ConditionsUnusuallyLowPay,
        },
        SuspectedForm = FormOfExploitation.Labour,
        Sector = Sector.AgricultureHorticulture,
        LocationType = LocationType.Unknown,
        ObservedOn = new Date { Year = 2026, Month = 10, Day = 14 },
        Municipality = new Municipality { Code = "GM0599", Name = "Rotterdam" },
        PersonLinkKeys = { LinkKey(LinkKeyKind.TravelDocument, worker) },
        FreeTextNote = "Werkt 14 uur per dag, 7 dagen per week; paspoort ingenomen door werkgever.",
    };

    public static SignalObservation PoliceCheck() => new()
    {
        Channel = SignalChannel.Police,
        ReporterType = ReporterType.Professional,
        ObservedIndicators = { Indicator.IntegrityThreatsOrViolence, Indicator.FreedomNoControlOfEarnings },
        SuspectedForm = FormOfExploitation.Sexual,
        Sector = Sector.SexIndustry,
        LocationType = LocationType.PrivateHome,
        ObservedOn = new Date { Year = 2026, Month = 11, Day = 2 },
        Municipality = new Municipality { Code = "GM0363", Name = "Amsterdam" },
    };

    /// <summary>A tip on the crime line about a window in Amsterdam, from a citizen who stays unknown.</summary>
    public static SignalObservation AnonymousTip() => new()
    {
        Channel = SignalChannel.AnonymousLine,
        ReporterType = ReporterType.Citizen,
        ObservedIndicators = { Indicator.ProstitutionFear, Indicator.ProstitutionNoFreedomOfMovement },
        SuspectedForm = FormOfExploitation.Sexual,
        LocationType = LocationType.Window,
        ObservedOn = new Date { Year = 2026, Month = 11 },
        Municipality = new Municipality { Code = "GM0363", Name = "Amsterdam" },
    };

    public static PersonLinkKey LinkKey(LinkKeyKind kind, int seed)
    {
        var hash = new byte[32];
        BitConverter.GetBytes(seed).CopyTo(hash, 0);
        return new PersonLinkKey { Kind = kind, KeyedHash = ByteString.CopyFrom(hash), KeyId = "chain-2026-1" };
    }
}
