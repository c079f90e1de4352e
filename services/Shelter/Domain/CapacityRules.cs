using Chain.Shelter.V1;

namespace Ketenmesh.Shelter.Domain;

/// <summary>What a capacity report must say before anything is stored; every problem is named with its field.</summary>
public static class CapacityRules
{
    /// <summary>More beds than any shelter has in one category: a typing error, not a report.</summary>
    public const int MaxBeds = 10_000;

    /// <summary>
    /// How far ahead of the service's clock an as_of may lie: clocks drift a little. Further ahead is a wrong clock or a
    /// typing error, and stored it would lock the shelter out: every later report describes an earlier moment and is refused.
    /// </summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <param name="offered">The categories the reporting shelter offers.</param>
    /// <param name="now">The service's clock, for as_of.</param>
    public static List<(string Field, string Description)> Validate(ReportCapacityRequest request, IReadOnlyCollection<ShelterCategory> offered, DateTimeOffset now)
    {
        var problems = new List<(string, string)>();
        if (request.ExpectedVersion <= 0)
        {
            problems.Add(("expected_version", "is required: the capacity version you last read (CapacitySnapshot.version)."));
        }
        if (request.AsOf is { } asOf)
        {
            if (asOf.Seconds is < -62_135_596_800 or > 253_402_300_799 || asOf.Nanos is < 0 or >= 1_000_000_000)
            {
                problems.Add(("as_of", "is not a valid timestamp."));
            }
            else if (asOf.ToDateTimeOffset() > now + MaxClockSkew)
            {
                problems.Add(("as_of", $"lies more than {MaxClockSkew.TotalMinutes:0} minutes in the future; report the moment your counts describe, or leave as_of out."));
            }
        }
        if (request.Beds.Count == 0)
        {
            problems.Add(("beds", "must report at least one category."));
        }
        var seen = new HashSet<ShelterCategory>();
        for (var i = 0; i < request.Beds.Count; i++)
        {
            var bed = request.Beds[i];
            if (bed.Category == ShelterCategory.Unspecified || !Enum.IsDefined(bed.Category))
            {
                problems.Add(($"beds[{i}].category", "must name a category."));
            }
            else if (!offered.Contains(bed.Category))
            {
                problems.Add(($"beds[{i}].category", "is not a category this shelter offers."));
            }
            else if (!seen.Add(bed.Category))
            {
                problems.Add(($"beds[{i}].category", "is reported twice."));
            }
            if (bed.TotalBeds < 0)
            {
                problems.Add(($"beds[{i}].total_beds", "must not be negative."));
            }
            else if (bed.TotalBeds > MaxBeds)
            {
                problems.Add(($"beds[{i}].total_beds", $"must be at most {MaxBeds}."));
            }
            if (bed.OccupiedBeds < 0)
            {
                problems.Add(($"beds[{i}].occupied_beds", "must not be negative."));
            }
            else if (bed.OccupiedBeds > bed.TotalBeds && bed.TotalBeds >= 0)
            {
                problems.Add(($"beds[{i}].occupied_beds", "must not exceed total_beds."));
            }
            // Reserved and available are the service's own count (holds for placements and groups), never reported.
            if (bed.ReservedBeds != 0)
            {
                problems.Add(($"beds[{i}].reserved_beds", "is kept by the service (held placements); leave it 0."));
            }
            if (bed.AvailableBeds != 0)
            {
                problems.Add(($"beds[{i}].available_beds", "is computed by the service; leave it 0."));
            }
        }
        return problems;
    }
}
