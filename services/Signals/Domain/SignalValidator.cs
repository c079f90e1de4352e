using System.Text.RegularExpressions;
using Chain.Common.V1;
using Chain.Signals.V1;

namespace Ketenmesh.Signals.Domain;

/// <summary>
/// What makes a signal acceptable. Every problem is reported at once, by field path, so a partner's
/// developer can fix a submission in one go.
/// </summary>
public static partial class SignalValidator
{
    public const int MaxNoteLength = 4000;
    public const int MaxLinkKeys = Ketenmesh.Contracts.PersonLinkKeys.MaxPerMessage;
    public const int MaxIndicators = 60;

    /// <summary>HMAC-SHA-256: anything else is not a pseudonymous link key but possibly the identity itself.</summary>
    public const int LinkKeyHashLength = 32;

    public static List<(string Field, string Description)> Validate(string clientRequestId, SignalObservation? observation, DateOnly today, string prefix = "")
    {
        var problems = new List<(string, string)>();
        if (string.IsNullOrEmpty(clientRequestId))
        {
            problems.Add(($"{prefix}client_request_id", "is required: a partner-chosen id that makes resubmission safe"));
        }
        else if (!ClientRequestIdPattern().IsMatch(clientRequestId))
        {
            problems.Add(($"{prefix}client_request_id", "must be 1-128 characters of A-Z, a-z, 0-9, '-', '_', '.', ':'"));
        }
        if (observation is null)
        {
            problems.Add(($"{prefix}observation", "is required"));
            return problems;
        }
        var o = $"{prefix}observation";
        if (observation.Channel == SignalChannel.Unspecified)
        {
            problems.Add(($"{o}.channel", "must say how the signal came in"));
        }
        if (observation.ObservedIndicators.Count == 0 && string.IsNullOrWhiteSpace(observation.FreeTextNote))
        {
            problems.Add(($"{o}.observed_indicators", "at least one indicator, or a note, is needed for a signal to be assessed"));
        }
        if (observation.ObservedIndicators.Count > MaxIndicators)
        {
            problems.Add(($"{o}.observed_indicators", $"at most {MaxIndicators} indicators"));
        }
        for (var i = 0; i < observation.ObservedIndicators.Count; i++)
        {
            var indicator = observation.ObservedIndicators[i];
            if (indicator == Indicator.Unspecified || !Enum.IsDefined(indicator))
            {
                problems.Add(($"{o}.observed_indicators[{i}]", $"{(int)indicator} is not an indicator from the catalogue"));
            }
        }
        CheckDefined(observation.SuspectedForm, $"{o}.suspected_form", problems);
        CheckDefined(observation.Sector, $"{o}.sector", problems);
        CheckDefined(observation.LocationType, $"{o}.location_type", problems);
        CheckDefined(observation.ReporterType, $"{o}.reporter_type", problems);
        if (observation.ObservedOn is { } date)
        {
            CheckDate(date, today, $"{o}.observed_on", problems);
        }
        if (observation.Municipality is { Code.Length: > 0 } municipality && !MunicipalityCodePattern().IsMatch(municipality.Code))
        {
            problems.Add(($"{o}.municipality.code", "must be a CBS municipality code such as GM0363"));
        }
        if (observation.PersonLinkKeys.Count > MaxLinkKeys)
        {
            problems.Add(($"{o}.person_link_keys", $"at most {MaxLinkKeys} link keys"));
        }
        for (var i = 0; i < observation.PersonLinkKeys.Count; i++)
        {
            var key = observation.PersonLinkKeys[i];
            var field = $"{o}.person_link_keys[{i}]";
            if (key.Kind == LinkKeyKind.Unspecified || !Enum.IsDefined(key.Kind))
            {
                problems.Add(($"{field}.kind", "must name what the key was derived from"));
            }
            if (key.KeyedHash.Length != LinkKeyHashLength)
            {
                problems.Add(($"{field}.keyed_hash", $"must be a {LinkKeyHashLength}-byte HMAC-SHA-256, never the attribute itself"));
            }
            if (string.IsNullOrEmpty(key.KeyId))
            {
                problems.Add(($"{field}.key_id", "must name the chain key the hash was made with"));
            }
        }
        if (observation.FreeTextNote.Length > MaxNoteLength)
        {
            problems.Add(($"{o}.free_text_note", $"at most {MaxNoteLength} characters"));
        }
        return problems;
    }

    private static void CheckDefined<T>(T value, string field, List<(string, string)> problems)
        where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            problems.Add((field, $"{Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)} is not a known value"));
        }
    }

    /// <summary>Day 0, or month and day 0, mean "only the month" or "only the year" (anonymous tips).</summary>
    private static void CheckDate(Date date, DateOnly today, string field, List<(string, string)> problems)
    {
        if (date.Year < 1990 || date.Year > today.Year)
        {
            problems.Add(($"{field}.year", $"must be between 1990 and {today.Year}"));
            return;
        }
        if (date.Month is < 0 or > 12 || (date.Month == 0 && date.Day != 0))
        {
            problems.Add(($"{field}.month", "must be 1-12, or 0 with day 0 when only the year is known"));
            return;
        }
        if (date.Day < 0 || (date.Month > 0 && date.Day > DateTime.DaysInMonth(date.Year, date.Month)))
        {
            problems.Add(($"{field}.day", "is not a day of that month"));
            return;
        }
        var earliest = new DateOnly(date.Year, Math.Max(date.Month, 1), Math.Max(date.Day, 1));
        if (earliest > today)
        {
            problems.Add((field, "must not be in the future"));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex ClientRequestIdPattern();

    [GeneratedRegex("^GM[0-9]{4}$")]
    private static partial Regex MunicipalityCodePattern();
}
