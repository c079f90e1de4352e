using Chain.Common.V1;
using Chain.Registry.V1;
using Ketenmesh.OfficerConsole.Dashboard;

namespace Ketenmesh.OfficerConsole.Tests;

public sealed class DashboardFigureTests
{
    static GetStatisticsResponse Answer(params StatisticsCell[] cells) => new() { Cells = { cells }, SuppressionThreshold = 5 };

    [Fact]
    public void A_withheld_cell_reads_withheld_in_the_table_the_csv_and_the_chart_never_zero()
    {
        var breakdown = Breakdown.From(Answer(
            new StatisticsCell { Year = 2025, Form = FormOfExploitation.Sexual, Count = 12 },
            new StatisticsCell { Year = 2025, Form = FormOfExploitation.OrganRemoval, Count = 0, Suppressed = true }),
            StatisticsDimension.Form, "Form of exploitation");

        Assert.True(breakdown.At(2025, "Organ removal").IsWithheld);
        Assert.Equal("withheld", breakdown.At(2025, "Organ removal").ToString());
        Assert.Contains("2025,withheld,12", breakdown.ToCsv().Replace("\r\n", "\n", StringComparison.Ordinal));
        var svg = BarChart.Svg(breakdown, "forms");
        Assert.Contains("<title>2025, Organ removal: withheld</title>", svg);
        Assert.DoesNotContain("Organ removal: 0", svg);
        Assert.Contains("1 figure is withheld", svg);
    }

    [Fact]
    public void A_year_the_registry_answered_no_cell_for_is_a_true_zero()
    {
        var breakdown = Breakdown.From(Answer(
            new StatisticsCell { Year = 2024, Sector = Sector.AgricultureHorticulture, Count = 7 },
            new StatisticsCell { Year = 2025, Sector = Sector.SexIndustry, Count = 9 }),
            StatisticsDimension.Sector, "Sector");

        Assert.Equal([2024, 2025], breakdown.Years);
        Assert.Equal(0, breakdown.At(2025, "Agriculture horticulture").Count);
        Assert.False(breakdown.At(2025, "Agriculture horticulture").IsWithheld);
    }

    [Fact]
    public void Every_year_asked_for_is_shown_and_one_without_registrations_reads_zero()
    {
        var breakdown = Breakdown.From(Answer(new StatisticsCell { Year = 2025, Form = FormOfExploitation.Labour, Count = 9 }),
            StatisticsDimension.Form, "Form of exploitation", 2023, 2026);

        Assert.Equal([2023, 2024, 2025, 2026], breakdown.Years);
        Assert.Equal(0, breakdown.At(2023, "Labour").Count);
        Assert.Equal(9, breakdown.At(2025, "Labour").Count);
        Assert.Empty(Breakdown.From(Answer(), StatisticsDimension.Form, "Form of exploitation", 2023, 2026).Years);
    }

    [Fact]
    public void Minors_are_told_from_adults_by_the_cell_not_by_a_default()
    {
        var breakdown = Breakdown.From(Answer(
            new StatisticsCell { Year = 2025, Minor = true, Count = 6 },
            new StatisticsCell { Year = 2025, Minor = false, Count = 40 }),
            StatisticsDimension.Minor, "Minors");

        Assert.Equal(6, breakdown.At(2025, "Minor").Count);
        Assert.Equal(40, breakdown.At(2025, "Adult").Count);
    }

    [Fact]
    public void Nationalities_are_told_apart_by_country_code_and_a_person_without_one_counts_as_unknown()
    {
        var breakdown = Breakdown.From(Answer(
            new StatisticsCell { Year = 2025, NationalityCountryCode = "NG", Count = 11 },
            new StatisticsCell { Year = 2025, NationalityCountryCode = "RO", Count = 0, Suppressed = true },
            new StatisticsCell { Year = 2025, Count = 6 }),
            StatisticsDimension.Nationality, "Nationality");

        Assert.Equal(["NG", "RO", "Unknown"], breakdown.Categories);
        Assert.Equal(11, breakdown.At(2025, "NG").Count);
        Assert.True(breakdown.At(2025, "RO").IsWithheld);
        Assert.Equal(6, breakdown.At(2025, "Unknown").Count);
        Assert.Equal("year,NG,RO,Unknown\r\n2025,11,withheld,6\r\n", breakdown.ToCsv());
        var svg = BarChart.Svg(breakdown, "nationality");
        Assert.Contains("<title>2025, RO: withheld</title>", svg);
        Assert.Contains("<title>2025, Unknown: 6</title>", svg);
    }

    [Fact]
    public void Bars_are_as_tall_as_their_figures()
    {
        var svg = BarChart.Svg(Breakdown.From(Answer(
            new StatisticsCell { Year = 2025, Form = FormOfExploitation.Sexual, Count = 10 },
            new StatisticsCell { Year = 2025, Form = FormOfExploitation.Labour, Count = 5 }),
            StatisticsDimension.Form, "Form of exploitation"), "f");

        var heights = System.Text.RegularExpressions.Regex.Matches(svg, "height=\"([0-9.]+)\" fill=\"#[0-9A-F]{6}\"><title>")
            .Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, heights.Count);
        Assert.Equal(heights.Max() / 2, heights.Min(), 1);
    }

    [Theory]
    [InlineData("police", "police")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("@sum", "'@sum")]
    public void Csv_fields_are_quoted_as_rfc_4180_says_and_never_run_as_formulas(string value, string field) =>
        Assert.Equal(field, Csv.Field(value));

    [Theory]
    [InlineData("OtherServices", "Other services")]
    [InlineData("SexIndustry", "Sex industry")]
    [InlineData("From18To22", "From 18 to 22")]
    public void Generated_enum_names_read_as_words(string name, string words) => Assert.Equal(words, Breakdown.Words(name));
}
