using Chain.Common.V1;

namespace Ketenmesh.Contracts;

/// <summary>The contracts' calendar day (chain.common.v1.Date) and .NET's, both ways.</summary>
public static class ChainDates
{
    /// <summary>A whole day (year, month and day all set) as a DateOnly; null for a partial or invalid one.</summary>
    public static DateOnly? ToDateOnly(this Date? date) =>
        date is { Year: >= 1 and <= 9999, Month: >= 1 and <= 12, Day: >= 1 } && date.Day <= DateTime.DaysInMonth(date.Year, date.Month)
            ? new DateOnly(date.Year, date.Month, date.Day)
            : null;

    /// <summary>ISO 8601 (yyyy-MM-dd) for messages and output; "?" for a partial or invalid day.</summary>
    public static string ToText(this Date? date) =>
        date.ToDateOnly()?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "?";

    public static Date ToDate(this DateOnly day) => new() { Year = day.Year, Month = day.Month, Day = day.Day };
}
