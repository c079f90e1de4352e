using Chain.Common.V1;
using Chain.Risk.V1;

namespace Ketenmesh.Risk.Domain;

/// <summary>What makes a rule set usable: every rule can fire, points are positive, bands cover every score.</summary>
public static class RuleSetValidator
{
    public static List<string> Problems(RuleSet ruleSet)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ruleSet.Version))
        {
            problems.Add("it has no version");
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in ruleSet.Rules)
        {
            if (string.IsNullOrWhiteSpace(rule.RuleId) || !ids.Add(rule.RuleId))
            {
                problems.Add($"rule id '{rule.RuleId}' is empty or used twice");
            }
            if (rule.Indicators.Count == 0 && !rule.RequiresMinorSuspected)
            {
                problems.Add($"rule {rule.RuleId} has no condition, so it would fire on every signal");
            }
            if (rule.Indicators.Any(i => i == Indicator.Unspecified || !Enum.IsDefined(i)))
            {
                problems.Add($"rule {rule.RuleId} names an unknown indicator");
            }
            if (rule.Weight is < 1 or > 100)
            {
                problems.Add($"rule {rule.RuleId} weighs {rule.Weight}; points are 1 to 100");
            }
            if (rule.Track == Track.Unspecified)
            {
                problems.Add($"rule {rule.RuleId} points to no track");
            }
            if (string.IsNullOrWhiteSpace(rule.Description))
            {
                problems.Add($"rule {rule.RuleId} has no description to explain it with");
            }
        }
        var thresholds = ruleSet.BandThresholds.OrderBy(t => t.MinScore).ToList();
        if (thresholds.Count == 0 || thresholds[0].MinScore != 0)
        {
            problems.Add("band thresholds must start at score 0");
        }
        if (thresholds.Select(t => t.Band).Distinct().Count() != thresholds.Count || thresholds.Zip(thresholds.Skip(1)).Any(p => p.First.Band >= p.Second.Band))
        {
            problems.Add("band thresholds must rise with the band, once per band");
        }
        return problems;
    }
}
