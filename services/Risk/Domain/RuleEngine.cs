using Chain.Common.V1;
using Chain.Risk.V1;

namespace Ketenmesh.Risk.Domain;

/// <summary>What a signal says that the rules can look at: classifications only.</summary>
public sealed record SignalFacts(IReadOnlySet<Indicator> Indicators, bool MinorSuspected);

/// <summary>The outcome of applying one rule set to one signal, before it gets an identity.</summary>
public sealed record Scoring(int Score, RiskBand Band, Track Track, IReadOnlyList<EscalationFlag> Flags, IReadOnlyList<Contribution> Contributions);

/// <summary>
/// Applies a rule set: every rule whose conditions all hold adds its points (the sum capped at 100),
/// the band follows from the thresholds, and any escalation (a minor, acute danger) makes it
/// CRITICAL whatever the score. The track is the one the fired rules' points favour most.
/// </summary>
public static class RuleEngine
{
    public const int MaxScore = 100;

    // When two tracks weigh the same, the one that protects the person soonest goes first.
    private static readonly Track[] TieOrder = [Track.CriminalInvestigation, Track.Care, Track.Administrative, Track.Monitor];

    public static Scoring Score(RuleSet ruleSet, SignalFacts facts)
    {
        var contributions = new List<Contribution>();
        foreach (var rule in ruleSet.Rules)
        {
            if (Fires(rule, facts))
            {
                contributions.Add(new Contribution
                {
                    RuleId = rule.RuleId,
                    Indicator = rule.Indicators.Count == 1 ? rule.Indicators[0] : Indicator.Unspecified,
                    Catalogue = CatalogueOf(rule),
                    Weight = rule.Weight,
                    EscalationFlag = rule.EscalationFlag,
                    Explanation = rule.Indicators.Count > 1
                        ? $"{rule.Description} ({string.Join(", ", rule.Indicators)})"
                        : rule.Description,
                });
            }
        }
        var score = Math.Min(MaxScore, contributions.Sum(c => c.Weight));
        var flags = contributions.Select(c => c.EscalationFlag).Where(f => f != EscalationFlag.Unspecified).Distinct().Order().ToList();
        var band = flags.Count > 0 ? RiskBand.Critical : BandOf(ruleSet, score);
        return new Scoring(score, band, TrackOf(ruleSet, contributions), flags, contributions);
    }

    public static bool Fires(Rule rule, SignalFacts facts) =>
        (!rule.RequiresMinorSuspected || facts.MinorSuspected) && rule.Indicators.All(facts.Indicators.Contains);

    private static RiskBand BandOf(RuleSet ruleSet, int score) =>
        ruleSet.BandThresholds.Where(t => t.MinScore <= score).MaxBy(t => t.MinScore)!.Band;

    private static Track TrackOf(RuleSet ruleSet, List<Contribution> contributions)
    {
        if (contributions.Count == 0)
        {
            return Track.Monitor;
        }
        var tracks = ruleSet.Rules.ToDictionary(r => r.RuleId, r => r.Track);
        var points = contributions.GroupBy(c => tracks[c.RuleId]).ToDictionary(g => g.Key, g => g.Sum(c => c.Weight));
        return TieOrder.Where(points.ContainsKey).OrderByDescending(t => points[t]).First();
    }

    private static IndicatorCatalogue CatalogueOf(Rule rule) => rule.Indicators.Count == 0 ? IndicatorCatalogue.Minors : CatalogueOf(rule.Indicators[0]);

    /// <summary>The brief's catalogues, by the hundreds of the indicator's number.</summary>
    /// <remarks>Source of the 800s: seeds/001…txt L9369–9376 (IOM: re-trafficked "binnen twee jaar"; no family or
    /// social network, addiction, psychological problems, an underdeveloped economy at home).</remarks>
    public static IndicatorCatalogue CatalogueOf(Indicator indicator) =>
        ((int)indicator / 100) switch
        {
            1 => IndicatorCatalogue.Municipal,
            2 => IndicatorCatalogue.BarrierModel,
            3 => IndicatorCatalogue.AnonymousLineForcedProstitution,
            4 => IndicatorCatalogue.SexualExploitation,
            5 => IndicatorCatalogue.LabourExploitation,
            6 => IndicatorCatalogue.CriminalExploitation,
            7 => IndicatorCatalogue.Minors,
            8 => IndicatorCatalogue.Retrafficking,
            _ => IndicatorCatalogue.Unspecified,
        };
}
