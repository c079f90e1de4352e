using Chain.Common.V1;
using Chain.Risk.V1;
using Ketenmesh.Risk.Domain;

namespace Ketenmesh.Risk.Tests;

public sealed class RuleEngineTests
{
    private static readonly RuleSet Active = RuleSetLibrary.Embedded().ShippedActive;

    private static Scoring Score(bool minor = false, params Indicator[] indicators) => RuleEngine.Score(Active, new SignalFacts(indicators.ToHashSet(), minor));

    [Fact]
    public void A_signal_with_nothing_observed_is_low_and_only_monitored()
    {
        var scoring = Score();

        Assert.Equal(0, scoring.Score);
        Assert.Equal(RiskBand.Low, scoring.Band);
        Assert.Equal(Track.Monitor, scoring.Track);
        Assert.Empty(scoring.Contributions);
    }

    [Fact]
    public void Every_indicator_belongs_to_a_catalogue()
    {
        Assert.All(Enum.GetValues<Indicator>().Where(i => i != Indicator.Unspecified),
            i => Assert.NotEqual(IndicatorCatalogue.Unspecified, RuleEngine.CatalogueOf(i)));
    }

    [Fact]
    public void The_re_trafficking_factors_are_indicators_of_their_own_catalogue_and_weigh_nothing_for_trafficking_now()
    {
        Indicator[] factors = [Indicator.RetraffickingNoFamilyNetwork, Indicator.RetraffickingAddiction, Indicator.RetraffickingPsychologicalProblems, Indicator.RetraffickingPoorHomeEconomy];

        var scoring = Score(false, factors);

        Assert.All(factors, f => Assert.Equal(IndicatorCatalogue.Retrafficking, RuleEngine.CatalogueOf(f)));
        // They tell the return service how likely a return ends in being trafficked again, not whether
        // the person is being trafficked now.
        Assert.Equal(0, scoring.Score);
        Assert.Empty(scoring.Contributions);
    }

    [Fact]
    public void A_suspected_minor_is_critical_and_for_care_even_with_no_other_sign()
    {
        var scoring = Score(minor: true);

        Assert.Equal(RiskBand.Critical, scoring.Band);
        Assert.Equal([EscalationFlag.Minor], scoring.Flags);
        Assert.Equal(Track.Care, scoring.Track);
        Assert.True(scoring.Score < 70, "the band comes from the escalation, not the score");
    }

    [Fact]
    public void Threats_are_acute_danger_and_critical_whatever_the_score()
    {
        var scoring = Score(false, Indicator.IntegrityThreatsOrViolence);

        Assert.Equal(RiskBand.Critical, scoring.Band);
        Assert.Equal([EscalationFlag.AcuteDanger], scoring.Flags);
    }

    [Fact]
    public void Debt_bondage_at_an_inspection_is_high_and_for_criminal_investigation_with_the_pattern_named()
    {
        var scoring = Score(false, Indicator.LabourDocumentsConfiscated, Indicator.LabourHousingFromEmployer, Indicator.LabourTravelDebt, Indicator.LabourSevenDayLongWeeks);

        // 14 + 6 + 10 + 8 for the signs, 15 for the pattern.
        Assert.Equal(53, scoring.Score);
        Assert.Equal(RiskBand.High, scoring.Band);
        Assert.Equal(Track.CriminalInvestigation, scoring.Track);
        Assert.Contains(scoring.Contributions, c => c.RuleId == "LAB-900" && c.Indicator == Indicator.Unspecified);
    }

    [Fact]
    public void Bad_conditions_alone_point_to_the_administrative_track()
    {
        var scoring = Score(false, Indicator.ConditionsUnusuallyLowPay, Indicator.ConditionsExcessiveHours, Indicator.BarrierHousing);

        Assert.Equal(17, scoring.Score);
        Assert.Equal(RiskBand.Low, scoring.Band);
        Assert.Equal(Track.Administrative, scoring.Track);
    }

    [Fact]
    public void The_score_never_exceeds_100_however_much_is_observed()
    {
        var scoring = Score(true, Enum.GetValues<Indicator>().Where(i => i != Indicator.Unspecified).ToArray());

        Assert.Equal(RuleEngine.MaxScore, scoring.Score);
        Assert.Equal(Active.Rules.Count, scoring.Contributions.Count);
    }
}
