using Chain.Common.V1;
using Chain.Risk.V1;
using Ketenmesh.Risk.Domain;

namespace Ketenmesh.Risk.Tests;

public sealed class RuleSetLibraryTests
{
    private static RuleSet Valid(string version, RuleSetState state = RuleSetState.Active) => new()
    {
        Version = version,
        State = state,
        Rules = { new Rule { RuleId = "X-1", Indicators = { Indicator.DependencyDebts }, Weight = 10, Track = Track.CriminalInvestigation, Description = "debts" } },
        BandThresholds = { new BandThreshold { Band = RiskBand.Low, MinScore = 0 }, new BandThreshold { Band = RiskBand.High, MinScore = 50 } },
    };

    [Fact]
    public void The_shipped_rule_sets_load_with_one_active()
    {
        var library = RuleSetLibrary.Embedded();

        Assert.Equal("2026.3", library.ShippedActive.Version);
        Assert.NotNull(library.Find("2026.1"));
        Assert.NotNull(library.Find("2026.2"));
    }

    [Fact]
    public void A_rule_with_no_condition_is_refused_because_it_would_fire_on_everything()
    {
        var ruleSet = Valid("t.1");
        ruleSet.Rules[0].Indicators.Clear();

        var error = Assert.Throws<InvalidDataException>(() => new RuleSetLibrary([ruleSet]));

        Assert.Contains("no condition", error.Message);
    }

    [Fact]
    public void Thresholds_that_leave_low_scores_without_a_band_are_refused()
    {
        var ruleSet = Valid("t.1");
        ruleSet.BandThresholds[0].MinScore = 10;

        Assert.Throws<InvalidDataException>(() => new RuleSetLibrary([ruleSet]));
    }

    [Fact]
    public void Two_versions_shipped_as_active_are_refused()
    {
        Assert.Throws<InvalidDataException>(() => new RuleSetLibrary([Valid("t.1"), Valid("t.2")]));
    }

    [Fact]
    public void A_rule_id_used_twice_is_refused()
    {
        var ruleSet = Valid("t.1");
        ruleSet.Rules.Add(ruleSet.Rules[0].Clone());

        Assert.Throws<InvalidDataException>(() => new RuleSetLibrary([ruleSet]));
    }
}
