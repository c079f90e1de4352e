using System.Globalization;
using System.Text;
using Chain.Registry.V1;

namespace Ketenmesh.OfficerConsole.Dashboard;

/// <summary>One figure of the Rapporteur's statistics: a count, or withheld (never shown as zero).</summary>
public readonly record struct Figure(int? Count)
{
    public static Figure Withheld { get; } = new(null);

    public bool IsWithheld => Count is null;

    public override string ToString() => Count?.ToString("N0", CultureInfo.InvariantCulture) ?? "withheld";
}

/// <summary>
/// Registered persons per registration year, broken down by one more dimension, as the registry's
/// <c>GetStatistics</c> answers it. A cell the registry withholds (a count under its threshold, or one that
/// would reveal one) stays withheld here: it is shown as withheld, never as zero, and sums are not made of it.
/// </summary>
public sealed record Breakdown(string Title, StatisticsDimension By, IReadOnlyList<int> Years, IReadOnlyList<string> Categories, IReadOnlyDictionary<(int Year, string Category), Figure> Cells)
{
    /// <summary>What the dashboard shows, each by year: the brief's form of exploitation, minors, nationality and sector.</summary>
    public static IReadOnlyList<(StatisticsDimension By, string Title)> Dashboard { get; } =
    [
        (StatisticsDimension.Form, "Form of exploitation"),
        (StatisticsDimension.Minor, "Minors"),
        (StatisticsDimension.Nationality, "Nationality"),
        (StatisticsDimension.Sector, "Sector"),
    ];

    public static GetStatisticsRequest Request(int yearFrom, int yearTo, StatisticsDimension by) => new()
    {
        YearFrom = yearFrom,
        YearTo = yearTo,
        GroupBy = { StatisticsDimension.Year, by },
    };

    /// <param name="yearFrom">With <paramref name="yearTo"/>: the years asked for, each shown, with true zeros where nobody was registered.</param>
    public static Breakdown From(GetStatisticsResponse response, StatisticsDimension by, string title, int? yearFrom = null, int? yearTo = null)
    {
        var cells = new Dictionary<(int, string), Figure>();
        foreach (var cell in response.Cells)
        {
            cells[(cell.Year, CategoryOf(cell, by))] = cell.Suppressed ? Figure.Withheld : new Figure(cell.Count);
        }
        var asked = cells.Count > 0 && yearFrom is { } from && yearTo is { } to && to >= from ? Enumerable.Range(from, to - from + 1) : [];
        var years = cells.Keys.Select(k => k.Item1).Concat(asked).Distinct().Order().ToList();
        var categories = cells.Keys.Select(k => k.Item2).Distinct().Order(StringComparer.Ordinal).ToList();
        return new Breakdown(title, by, years, categories, cells);
    }

    /// <summary>The cell, or none when the registry answered no cell for it (nobody registered: a true zero).</summary>
    public Figure At(int year, string category) => Cells.TryGetValue((year, category), out var figure) ? figure : new Figure(0);

    /// <summary>The table as CSV (RFC 4180): a withheld cell reads "withheld".</summary>
    public string ToCsv()
    {
        var csv = new StringBuilder();
        csv.Append("year");
        foreach (var category in Categories)
        {
            csv.Append(',').Append(Csv.Field(category));
        }
        csv.Append("\r\n");
        foreach (var year in Years)
        {
            csv.Append(year.ToString(CultureInfo.InvariantCulture));
            foreach (var category in Categories)
            {
                var figure = At(year, category);
                csv.Append(',').Append(figure.IsWithheld ? "withheld" : figure.Count!.Value.ToString(CultureInfo.InvariantCulture));
            }
            csv.Append("\r\n");
        }
        return csv.ToString();
    }

    static string CategoryOf(StatisticsCell cell, StatisticsDimension by) => by switch
    {
        StatisticsDimension.Form => Words(cell.Form.ToString()),
        StatisticsDimension.Minor => cell.HasMinor && cell.Minor ? "Minor" : "Adult",
        StatisticsDimension.Nationality => string.IsNullOrEmpty(cell.NationalityCountryCode) ? "Unknown" : cell.NationalityCountryCode,
        StatisticsDimension.Sector => Words(cell.Sector.ToString()),
        StatisticsDimension.Sex => Words(cell.Sex.ToString()),
        StatisticsDimension.AgeBand => Words(cell.AgeBand.ToString()),
        StatisticsDimension.Aangifte => Words(cell.AangifteStatus.ToString()),
        _ => throw new ArgumentOutOfRangeException(nameof(by), by, "Not a dimension the dashboard breaks years down by."),
    };

    /// <summary>A generated enum name in words: <c>OtherServices</c> → "Other services".</summary>
    public static string Words(string pascal)
    {
        var words = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (i > 0 && char.IsUpper(c) && !char.IsUpper(pascal[i - 1]))
            {
                words.Append(' ');
                c = char.ToLowerInvariant(c);
            }
            else if (i > 0 && char.IsDigit(c) && !char.IsDigit(pascal[i - 1]))
            {
                words.Append(' ');
            }
            words.Append(c);
        }
        return words.ToString();
    }
}
