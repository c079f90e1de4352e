using Chain.Common.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Ketenmesh.Signals.Domain;

namespace Ketenmesh.Signals.Tests;

public sealed class SignalValidatorTests
{
    private static readonly DateOnly Today = new(2026, 11, 23);

    private static List<string> FieldsWrongIn(SignalObservation? observation, string clientRequestId = "req-1") =>
        SignalValidator.Validate(clientRequestId, observation, Today).Select(p => p.Field).ToList();

    [Fact]
    public void Realistic_inspection_signal_is_valid() => Assert.Empty(FieldsWrongIn(Observations.LabourInspection()));

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("ünïcode")]
    public void Client_request_id_must_be_a_safe_token(string id) =>
        Assert.Contains("client_request_id", FieldsWrongIn(Observations.PoliceCheck(), id));

    [Fact]
    public void Client_request_id_of_129_characters_is_too_long() =>
        Assert.Contains("client_request_id", FieldsWrongIn(Observations.PoliceCheck(), new string('a', 129)));

    [Fact]
    public void Missing_observation_is_reported() => Assert.Equal(["observation"], FieldsWrongIn(null));

    [Fact]
    public void Channel_is_required()
    {
        var observation = Observations.PoliceCheck();
        observation.Channel = SignalChannel.Unspecified;
        Assert.Equal(["observation.channel"], FieldsWrongIn(observation));
    }

    [Fact]
    public void Signal_without_indicators_or_note_cannot_be_assessed()
    {
        var observation = Observations.PoliceCheck();
        observation.ObservedIndicators.Clear();
        Assert.Equal(["observation.observed_indicators"], FieldsWrongIn(observation));
        observation.FreeTextNote = "Meisje van ongeveer 16 stapt 's nachts bij wisselende auto's in.";
        Assert.Empty(FieldsWrongIn(observation));
    }

    [Fact]
    public void Indicator_outside_the_catalogue_is_named_by_position()
    {
        var observation = Observations.PoliceCheck();
        observation.ObservedIndicators.Add((Indicator)9999);
        Assert.Equal(["observation.observed_indicators[2]"], FieldsWrongIn(observation));
    }

    [Fact]
    public void Unknown_enum_values_are_refused()
    {
        var observation = Observations.PoliceCheck();
        observation.Sector = (Sector)500;
        observation.LocationType = (LocationType)500;
        Assert.Equal(["observation.sector", "observation.location_type"], FieldsWrongIn(observation));
    }

    [Theory]
    [InlineData(2026, 12, 1, "observation.observed_on")]
    [InlineData(2027, 0, 0, "observation.observed_on.year")]
    [InlineData(1985, 5, 5, "observation.observed_on.year")]
    [InlineData(2026, 13, 1, "observation.observed_on.month")]
    [InlineData(2026, 0, 5, "observation.observed_on.month")]
    [InlineData(2026, 2, 30, "observation.observed_on.day")]
    public void Impossible_or_future_dates_are_refused(int year, int month, int day, string field)
    {
        var observation = Observations.PoliceCheck();
        observation.ObservedOn = new Date { Year = year, Month = month, Day = day };
        Assert.Equal([field], FieldsWrongIn(observation));
    }

    [Theory]
    [InlineData(2026, 0, 0)]
    [InlineData(2026, 11, 0)]
    [InlineData(2026, 11, 23)]
    public void Year_only_or_month_only_dates_are_allowed_for_coarse_tips(int year, int month, int day)
    {
        var observation = Observations.PoliceCheck();
        observation.ObservedOn = new Date { Year = year, Month = month, Day = day };
        Assert.Empty(FieldsWrongIn(observation));
    }

    [Fact]
    public void Municipality_code_must_be_a_cbs_code()
    {
        var observation = Observations.PoliceCheck();
        observation.Municipality.Code = "Amsterdam";
        Assert.Equal(["observation.municipality.code"], FieldsWrongIn(observation));
    }

    [Fact]
    public void Link_key_that_is_not_a_32_byte_hash_is_refused_so_identities_never_get_in()
    {
        var observation = Observations.PoliceCheck();
        observation.PersonLinkKeys.Add(new PersonLinkKey { Kind = LinkKeyKind.NameDateOfBirth, KeyedHash = ByteString.CopyFromUtf8("Jansen 1999-01-01"), KeyId = "k" });
        observation.PersonLinkKeys.Add(new PersonLinkKey { KeyedHash = ByteString.CopyFrom(new byte[32]) });
        Assert.Equal(
            ["observation.person_link_keys[0].keyed_hash", "observation.person_link_keys[1].kind", "observation.person_link_keys[1].key_id"],
            FieldsWrongIn(observation));
    }

    [Fact]
    public void Note_longer_than_the_limit_is_refused()
    {
        var observation = Observations.PoliceCheck();
        observation.FreeTextNote = new string('x', SignalValidator.MaxNoteLength + 1);
        Assert.Equal(["observation.free_text_note"], FieldsWrongIn(observation));
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var observation = new SignalObservation { Municipality = new Municipality { Code = "x" } };
        Assert.Equal(4, FieldsWrongIn(observation, "").Count);
    }
}
