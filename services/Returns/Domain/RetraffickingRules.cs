using Chain.Common.V1;
using Chain.Returns.V1;
using Chain.Risk.V1;
using Google.Protobuf;

namespace Ketenmesh.Returns.Domain;

/// <summary>
/// The risk of being trafficked again after return, scored before departure with a rule set in the
/// risk service's format (chain.risk.v1.RuleSet, RuleSets/*.json) and explained as a signal's
/// assessment is: every rule that fired with its points and a plain-language reason. Source:
/// seeds/001…txt L9369–9376: returned victims are more vulnerable "wanneer bijvoorbeeld de economische
/// en sociale situatie in het land van herkomst (nog steeds) onderontwikkeld zijn … het ontbreken van
/// een familiair of sociaal netwerk … een drugs- of alcoholverslaving of psychologische en
/// psychosociale problemen".
/// </summary>
public sealed class RetraffickingRules
{
    public const int MaxScore = 100;

    public RetraffickingRules(RuleSet ruleSet)
    {
        if (ruleSet.Rules.Count == 0 || ruleSet.Rules.Any(r => r.Indicators.Count == 0 || r.Weight is < 1 or > 100 || r.Indicators.Any(i => !Enum.IsDefined(i) || i == Indicator.Unspecified))
            || !ruleSet.BandThresholds.Any(t => t.MinScore == 0))
        {
            throw new InvalidDataException($"Re-trafficking rule set '{ruleSet.Version}' is invalid: every rule needs known indicators and 1 to 100 points, and the bands must start at 0.");
        }
        RuleSet = ruleSet;
    }

    public RuleSet RuleSet { get; }

    public static RetraffickingRules Embedded()
    {
        var assembly = typeof(RetraffickingRules).Assembly;
        var name = assembly.GetManifestResourceNames().Single(n => n.StartsWith("rulesets/retrafficking-", StringComparison.Ordinal));
        using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
        return new RetraffickingRules(new JsonParser(JsonParser.Settings.Default).Parse<RuleSet>(reader));
    }

    /// <summary>The indicator each factor of the contract is scored as.</summary>
    public static Indicator? IndicatorOf(RetraffickingRiskFactor factor) => factor switch
    {
        RetraffickingRiskFactor.NoFamilyNetwork => Indicator.RetraffickingNoFamilyNetwork,
        RetraffickingRiskFactor.Addiction => Indicator.RetraffickingAddiction,
        RetraffickingRiskFactor.PsychologicalProblems => Indicator.RetraffickingPsychologicalProblems,
        RetraffickingRiskFactor.PoorHomeEconomy => Indicator.RetraffickingPoorHomeEconomy,
        _ => null,
    };

    /// <summary>Every rule whose indicators are all present adds its points (capped at 100); the band follows from the thresholds.</summary>
    public RetraffickingAssessment Assess(IEnumerable<RetraffickingRiskFactor> factors)
    {
        var indicators = factors.Select(IndicatorOf).OfType<Indicator>().ToHashSet();
        var assessment = new RetraffickingAssessment { RuleSetVersion = RuleSet.Version, Indicators = { indicators.Order() } };
        foreach (var rule in RuleSet.Rules.Where(r => r.Indicators.All(indicators.Contains)))
        {
            assessment.Contributions.Add(new Contribution
            {
                RuleId = rule.RuleId,
                Indicator = rule.Indicators.Count == 1 ? rule.Indicators[0] : Indicator.Unspecified,
                Catalogue = IndicatorCatalogue.Retrafficking,
                Weight = rule.Weight,
                Explanation = rule.Indicators.Count > 1 ? $"{rule.Description} ({string.Join(", ", rule.Indicators)})" : rule.Description,
            });
        }
        assessment.Score = Math.Min(MaxScore, assessment.Contributions.Sum(c => c.Weight));
        assessment.Band = RuleSet.BandThresholds.Where(t => t.MinScore <= assessment.Score).MaxBy(t => t.MinScore)!.Band;
        return assessment;
    }
}
