using Chain.Common.V1;
using Chain.Risk.V1;
using Ketenmesh.Risk.Domain;

namespace Ketenmesh.Risk.Tests;

/// <summary>Every rule of every shipped rule set, one test case each: it fires on exactly its conditions, and not without any one of them.</summary>
public sealed class RuleTests
{
    private static readonly RuleSetLibrary Library = RuleSetLibrary.Embedded();

    public static TheoryData<string, string> EveryRule()
    {
        var data = new TheoryData<string, string>();
        foreach (var ruleSet in Library.All)
        {
            foreach (var rule in ruleSet.Rules)
            {
                data.Add(ruleSet.Version, rule.RuleId);
            }
        }
        return data;
    }

    private static (RuleSet RuleSet, Rule Rule) Find(string version, string ruleId)
    {
        var ruleSet = Library.Find(version)!;
        return (ruleSet, ruleSet.Rules.Single(r => r.RuleId == ruleId));
    }

    [Theory]
    [MemberData(nameof(EveryRule))]
    public void Rule_fires_on_its_conditions_with_its_points_flag_and_explanation(string version, string ruleId)
    {
        var (ruleSet, rule) = Find(version, ruleId);

        var scoring = RuleEngine.Score(ruleSet, new SignalFacts(rule.Indicators.ToHashSet(), rule.RequiresMinorSuspected));

        var contribution = Assert.Single(scoring.Contributions, c => c.RuleId == ruleId);
        Assert.Equal(rule.Weight, contribution.Weight);
        Assert.Equal(rule.EscalationFlag, contribution.EscalationFlag);
        Assert.False(string.IsNullOrWhiteSpace(contribution.Explanation));
        Assert.NotEqual(IndicatorCatalogue.Unspecified, contribution.Catalogue);
        if (rule.Indicators.Count == 1)
        {
            Assert.Equal(rule.Indicators[0], contribution.Indicator);
        }
        if (rule.EscalationFlag != EscalationFlag.Unspecified)
        {
            Assert.Equal(RiskBand.Critical, scoring.Band);
        }
    }

    [Theory]
    [MemberData(nameof(EveryRule))]
    public void Rule_stays_silent_when_any_one_condition_is_missing(string version, string ruleId)
    {
        var (ruleSet, rule) = Find(version, ruleId);
        var everythingElse = Enum.GetValues<Indicator>().Where(i => i != Indicator.Unspecified).ToHashSet();

        foreach (var missing in rule.Indicators)
        {
            var facts = new SignalFacts(everythingElse.Where(i => i != missing).ToHashSet(), MinorSuspected: true);
            Assert.DoesNotContain(RuleEngine.Score(ruleSet, facts).Contributions, c => c.RuleId == ruleId);
        }
        if (rule.RequiresMinorSuspected)
        {
            var facts = new SignalFacts(everythingElse, MinorSuspected: false);
            Assert.DoesNotContain(RuleEngine.Score(ruleSet, facts).Contributions, c => c.RuleId == ruleId);
        }
    }
}
