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

    /// <summary>A tip on the crime line about a window in Amsterdam, from someone who stays unknown.</summary>
    public static SignalObservation AnonymousTip() => new()
    {
        Channel = SignalChannel.AnonymousLine,
        ReporterType = ReporterType.Anonymous,
        ObservedIndicators = { Indicator.ProstitutionFear, Indicator.ProstitutionNoFreedomOfMovement },
        SuspectedForm = FormOfExploitation.Sexual,
        Sector = Sector.SexIndustry,
        LocationType = LocationType.Window,
        ObservedOn = new Date { Year = 2026, Month = 11 },
        Municipality = new Municipality { Code = "GM0363", Name = "Amsterdam" },
    };

    /// <summary>What identifies the tipster in <see cref="TipWithTipstersTraces"/>; none of it may be kept anywhere.</summary>
    public static readonly string[] TipstersTraces = ["Jan de Vries", "Dorpsstraat 12", "06-12345678"];

    /// <summary>The same tip as a caller might pass it on: who called, where they live, their number, who they are and the exact day.</summary>
    public static SignalObservation TipWithTipstersTraces()
    {
        var tip = AnonymousTip();
        tip.ReporterType = ReporterType.SexWorkerClient;
        tip.ObservedOn = new Date { Year = 2026, Month = 11, Day = 14 };
        tip.FreeTextNote = $"Melder {TipstersTraces[0]}, {TipstersTraces[1]} Zaandam, tel. {TipstersTraces[2]}: zag een vrouw die bang was en niet weg mocht.";
        return tip;
    }

    public static PersonLinkKey LinkKey(LinkKeyKind kind, int seed)
    {
        var hash = new byte[32];
        BitConverter.GetBytes(seed).CopyTo(hash, 0);
        return new PersonLinkKey { Kind = kind, KeyedHash = ByteString.CopyFrom(hash), KeyId = "chain-2026-1" };
    }
}
