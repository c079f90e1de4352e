using Chain.Registry.V1;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// What a person profile must make sense of. Age is recorded twice, at registration and at the start of
/// exploitation, because a victim registered as an adult may have been exploited as a minor (a gap the
/// brief names); the minor flag is set when either age is under 18.
/// </summary>
public static class PersonRules
{
    public const int MaxAge = 120;

    public static IEnumerable<(string Field, string Description)> Problems(PersonProfile? person, string field)
    {
        if (person is null)
        {
            yield break;
        }
        if (person.HasAgeAtRegistration && person.AgeAtRegistration is < 0 or > MaxAge)
        {
            yield return ($"{field}.age_at_registration", $"must be 0 to {MaxAge} years, or left out when unknown.");
        }
        if (person.HasAgeAtExploitationStart && person.AgeAtExploitationStart is < 0 or > MaxAge)
        {
            yield return ($"{field}.age_at_exploitation_start", $"must be 0 to {MaxAge} years, or left out when unknown.");
        }
        else if (person.HasAgeAtExploitationStart && person.HasAgeAtRegistration && person.AgeAtExploitationStart > person.AgeAtRegistration)
        {
            yield return ($"{field}.age_at_exploitation_start", "cannot be above the age at registration: exploitation starts before it is reported.");
        }
        if (person.HasAgeAtExploitationStart && person.AgeAtExploitationStart >= 18 && person.Minor)
        {
            yield return ($"{field}.minor", "contradicts age_at_exploitation_start (18 or over); leave minor unset or correct the age.");
        }
        if (!Enum.IsDefined(person.Sex))
        {
            yield return ($"{field}.sex", $"{(int)person.Sex} is not a known value.");
        }
        for (var i = 0; i < person.Nationalities.Count; i++)
        {
            var code = person.Nationalities[i].CountryCode;
            if (code.Length != 2 || !code.All(char.IsAsciiLetterUpper))
            {
                yield return ($"{field}.nationalities[{i}].country_code", "must be an ISO 3166-1 alpha-2 code in capitals (\"XX\" when stateless or unknown).");
            }
        }
    }

    /// <summary>Under this age a person is a minor (minderjarig).</summary>
    public const int AgeOfMajority = 18;

    /// <summary>
    /// The profile as stored: minor set when either age is under 18. A 16-year-old registered today is
    /// a minor now, whenever the exploitation began, and one exploited from 16 was trafficked as a
    /// child even when registered as an adult.
    /// </summary>
    /// <remarks>
    /// Source: seeds/001…txt L349–351: "mensenhandel gepleegd tegen kinderen altijd een strafverzwarende
    /// omstandigheid zal vormen, dus ook wanneer het slachtoffer zestien of zeventien jaar oud is";
    /// L295–296: "De bescherming start ook voor de groep van minderjarige slachtoffers [...] vanaf het
    /// moment van identificatie" (so the age at registration counts, not only the age at the start).
    /// </remarks>
    public static PersonProfile Normalised(PersonProfile? person)
    {
        var normalised = person?.Clone() ?? new PersonProfile();
        if ((normalised.HasAgeAtExploitationStart && normalised.AgeAtExploitationStart < AgeOfMajority)
            || (normalised.HasAgeAtRegistration && normalised.AgeAtRegistration < AgeOfMajority))
        {
            normalised.Minor = true;
        }
        return normalised;
    }

    /// <summary>The nationality statistics count: the first documented one, else the first declared, else "XX".</summary>
    public static string StatisticalNationality(PersonProfile person) =>
        (person.Nationalities.FirstOrDefault(n => n.Basis == NationalityBasis.Documented && !n.Alias)
            ?? person.Nationalities.FirstOrDefault(n => n.Basis == NationalityBasis.Documented)
            ?? person.Nationalities.FirstOrDefault())?.CountryCode is { Length: 2 } code ? code : "XX";
}
