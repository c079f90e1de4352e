using System.Text.RegularExpressions;
using Chain.Shelter.V1;
using Google.Protobuf.WellKnownTypes;

namespace Ketenmesh.Shelter.Domain;

/// <summary>How far ahead a large group may be announced.</summary>
public sealed class LargeGroupOptions
{
    /// <summary>
    /// The latest an action may be expected after its announcement. Places are held from the answer on, so an
    /// action announced far ahead would keep beds from victims who need them now; CoMensha is contacted shortly
    /// before an inspection (BRIEF.md, "Shelter (COSM)").
    /// </summary>
    public TimeSpan MaxLeadTime { get; set; } = TimeSpan.FromDays(14);
}

/// <summary>What a large-group request must say before places are looked for; every problem is named with its field.</summary>
public static partial class LargeGroupRules
{
    /// <summary>
    /// Temporary shelter for a large group lasts at most 14 days (BRIEF.md, "Shelter (COSM)": "temporary shelter up to
    /// 14 days"): both the period asked for and the whole hold, from the answer until the period ends.
    /// </summary>
    public static readonly TimeSpan MaxShelterPeriod = TimeSpan.FromDays(14);

    /// <summary>More persons than any action brings together: a typing error, not an announcement.</summary>
    public const int MaxGroupSize = 1_000;

    public const int MaxIdLength = 128;

    /// <summary>The request's own content, whenever it is made: checked before a resubmission is recognised.</summary>
    public static List<(string Field, string Description)> Validate(RequestLargeGroupShelterRequest request)
    {
        var problems = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.ClientRequestId) || request.ClientRequestId.Length > MaxIdLength)
        {
            problems.Add(("client_request_id", $"is required (up to {MaxIdLength} characters)."));
        }
        if (string.IsNullOrWhiteSpace(request.OperationReference) || request.OperationReference.Length > MaxIdLength)
        {
            problems.Add(("operation_reference", $"is required: the reference of the inspection or action in your own system (up to {MaxIdLength} characters)."));
        }
        if (request.Municipality is { } municipality && !MunicipalityCode().IsMatch(municipality.Code))
        {
            problems.Add(("municipality.code", "must be a CBS municipality code (GM and four digits), or leave municipality out."));
        }
        if (!System.Enum.IsDefined(request.Form))
        {
            problems.Add(("form", "must be a form of exploitation, or unspecified."));
        }
        if (request.ExpectedComposition.Count == 0)
        {
            problems.Add(("expected_composition", "must name at least one category with the persons expected in it."));
        }
        var seen = new HashSet<ShelterCategory>();
        var total = 0L;
        for (var i = 0; i < request.ExpectedComposition.Count; i++)
        {
            var group = request.ExpectedComposition[i];
            if (group.Category == ShelterCategory.Unspecified || !System.Enum.IsDefined(group.Category))
            {
                problems.Add(($"expected_composition[{i}].category", "must name a category."));
            }
            else if (!seen.Add(group.Category))
            {
                problems.Add(($"expected_composition[{i}].category", "is listed twice; give each category once, with all its persons."));
            }
            if (group.Persons <= 0)
            {
                problems.Add(($"expected_composition[{i}].persons", "must be at least 1."));
            }
            total += Math.Max(0, group.Persons);
        }
        if (total > MaxGroupSize)
        {
            problems.Add(("expected_composition", $"adds up to {total} persons; at most {MaxGroupSize} in one request."));
        }
        if (request.ExpectedAt is null)
        {
            problems.Add(("expected_at", "is required: the expected start of the action."));
        }
        else if (!IsValid(request.ExpectedAt))
        {
            problems.Add(("expected_at", "is not a valid timestamp."));
        }
        if (request.RequestedDuration is null)
        {
            problems.Add(("requested_duration", "is required: the shelter period needed, at most 14 days."));
        }
        else if (!IsValid(request.RequestedDuration) || request.RequestedDuration.Seconds < 0 || request.RequestedDuration.Nanos < 0)
        {
            problems.Add(("requested_duration", "is not a valid, positive duration."));
        }
        else if (request.RequestedDuration.ToTimeSpan() <= TimeSpan.Zero)
        {
            problems.Add(("requested_duration", "must be longer than zero."));
        }
        else if (request.RequestedDuration.ToTimeSpan() > MaxShelterPeriod)
        {
            problems.Add(("requested_duration", "must be at most 14 days: temporary shelter for a large group lasts up to 14 days."));
        }
        return problems;
    }

    /// <summary>What depends on the moment of the request: a new request only (a resubmission is answered as it was).</summary>
    public static List<(string Field, string Description)> ValidateTiming(RequestLargeGroupShelterRequest request, DateTimeOffset now, LargeGroupOptions options)
    {
        var problems = new List<(string, string)>();
        var expectedAt = request.ExpectedAt.ToDateTimeOffset();
        if (expectedAt > now + options.MaxLeadTime)
        {
            problems.Add(("expected_at", $"is more than {options.MaxLeadTime.TotalDays:0} days ahead; announce the action closer to its start, places are held from the answer on."));
        }
        else if (expectedAt + request.RequestedDuration.ToTimeSpan() <= now)
        {
            problems.Add(("expected_at", "with requested_duration, the shelter period is already over."));
        }
        else if (expectedAt + request.RequestedDuration.ToTimeSpan() - now > MaxShelterPeriod)
        {
            // The places are held from this answer on, not from the action: the lead time counts towards the 14 days,
            // or an action announced 14 days ahead would keep beds from victims for 28.
            problems.Add(("requested_duration", $"with expected_at, places would be held for {(expectedAt + request.RequestedDuration.ToTimeSpan() - now).TotalDays:0.#} days from now; they are held from the answer until the shelter period ends, at most 14 days altogether. Ask for a shorter period, or announce the action closer to its start."));
        }
        return problems;
    }

    private static bool IsValid(Timestamp timestamp) =>
        timestamp.Seconds is >= -62_135_596_800 and <= 253_402_300_799 && timestamp.Nanos is >= 0 and < 1_000_000_000;

    private static bool IsValid(Duration duration) =>
        duration.Seconds is >= -315_576_000_000 and <= 315_576_000_000 && duration.Nanos is > -1_000_000_000 and < 1_000_000_000
        && (duration.Seconds == 0 || duration.Nanos == 0 || (duration.Seconds < 0) == (duration.Nanos < 0));

    [GeneratedRegex("^GM[0-9]{4}$")]
    private static partial Regex MunicipalityCode();
}
