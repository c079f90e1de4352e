using Chain.Registry.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Policy.Masks;

namespace Ketenmesh.Policy.Tests;

public sealed class ResponseMaskTests
{
    private static readonly Registration Full = new()
    {
        RegistrationId = "reg-1",
        Status = VictimStatus.Presumed,
        Person = new PersonProfile { AgeAtRegistration = 17, Minor = true, Languages = { "nl", "ro" }, Nationalities = { new Nationality { CountryCode = "RO" } } },
        LinkKeys = { new Chain.Common.V1.PersonLinkKey { KeyId = "k1", KeyedHash = ByteString.CopyFromUtf8("h1") }, new Chain.Common.V1.PersonLinkKey { KeyId = "k2" } },
        MergeHistory = { new MergeRecord { MergedRegistrationIds = { "reg-0" } }, new MergeRecord { MergedRegistrationIds = { "reg-00" } } },
    };

    [Fact]
    public void Nested_path_keeps_only_that_field_of_the_nested_message()
    {
        var masked = Apply<Registration>(Full, "registration_id", "person.minor");

        Assert.Equal(new Registration { RegistrationId = "reg-1", Person = new PersonProfile { Minor = true } }, masked);
    }

    [Fact]
    public void Path_into_a_repeated_message_applies_to_every_element()
    {
        var masked = Apply<Registration>(Full, "link_keys.key_id");

        Assert.Equal(["k1", "k2"], masked.LinkKeys.Select(k => k.KeyId));
        Assert.All(masked.LinkKeys, k => Assert.True(k.KeyedHash.IsEmpty));
    }

    [Fact]
    public void Repeated_scalars_and_whole_messages_are_kept_as_they_are()
    {
        var masked = Apply<Registration>(Full, "person.languages", "merge_history");

        Assert.Equal(["nl", "ro"], masked.Person.Languages);
        Assert.Equal(Full.MergeHistory, masked.MergeHistory);
        Assert.False(masked.Person.HasAgeAtRegistration);
    }

    [Fact]
    public void Path_into_a_map_keeps_every_key_and_filters_every_value()
    {
        var structure = new Struct
        {
            Fields =
            {
                ["a"] = new Value { StringValue = "x" },
                ["b"] = new Value { NumberValue = 4 },
            },
        };

        var masked = Apply<Struct>(structure, "fields.string_value");

        Assert.Equal(["a", "b"], masked.Fields.Keys.Order());
        Assert.Equal("x", masked.Fields["a"].StringValue);
        Assert.Equal(Value.KindOneofCase.None, masked.Fields["b"].KindCase);
    }

    [Fact]
    public void Everything_still_drops_fields_the_contract_does_not_know_at_every_depth()
    {
        var person = Full.Person.ToByteArray().Concat(UnknownField(77)).ToArray();
        var registration = new Registration { RegistrationId = "reg-1" }.ToByteArray()
            .Concat(Tag(8, 2)).Concat(Varint((ulong)person.Length)).Concat(person)
            .Concat(UnknownField(99))
            .ToArray();

        var mask = ResponseMask.Compile(Registration.Descriptor, ["*"]);
        var masked = mask.Apply(registration);

        Assert.True(mask.KeepsEverything);
        Assert.Equal(new Registration { RegistrationId = "reg-1", Person = Full.Person }.ToByteArray(), masked);
    }

    [Fact]
    public void Malformed_message_is_refused_rather_than_passed_on()
    {
        var mask = ResponseMask.Compile(Registration.Descriptor, ["registration_id"]);

        Assert.Throws<InvalidDataException>(() => mask.Apply([0x0A, 0x05, 0x61]));
        Assert.Throws<InvalidDataException>(() => mask.Apply([0x0B]));
    }

    [Fact]
    public void Message_field_with_a_scalar_on_the_wire_is_refused()
    {
        var mask = ResponseMask.Compile(Registration.Descriptor, ["person.minor"]);

        Assert.Throws<InvalidDataException>(() => mask.Apply([0x40, 0x01]));
    }

    [Theory]
    [InlineData("nonsense", "is not a field of chain.registry.v1.Registration")]
    [InlineData("registration_id.x", "which is not a message")]
    [InlineData("person.height", "is not a field of chain.registry.v1.PersonProfile")]
    public void Mask_paths_that_do_not_fit_the_message_are_refused(string path, string problem)
    {
        var error = Assert.Throws<MaskException>(() => ResponseMask.Compile(Registration.Descriptor, [path]));

        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Everything_cannot_be_combined_with_other_paths()
    {
        Assert.Throws<MaskException>(() => ResponseMask.Compile(Registration.Descriptor, ["*", "status"]));
    }

    [Fact]
    public void Removed_paths_name_what_a_simulation_would_withhold()
    {
        var mask = ResponseMask.Compile(GetSignalResponse.Descriptor, ["signal.signal_id", "signal.observation.sector"]);

        var removed = mask.RemovedPaths();

        Assert.Contains("signal.observation.free_text_note", removed);
        Assert.Contains("signal.observation.person_link_keys", removed);
        Assert.Contains("signal.reporter_partner", removed);
        Assert.DoesNotContain("signal.signal_id", removed);
        Assert.DoesNotContain("signal.observation.sector", removed);
        Assert.DoesNotContain("signal", removed);
        Assert.Empty(ResponseMask.Compile(GetSignalResponse.Descriptor, ["*"]).RemovedPaths());
    }

    private static T Apply<T>(IMessage message, params string[] paths)
        where T : IMessage<T>, new()
    {
        var mask = ResponseMask.Compile(message.Descriptor, paths);
        return new MessageParser<T>(() => new T()).ParseFrom(mask.Apply(message.ToByteArray()));
    }

    private static IEnumerable<byte> UnknownField(int number) => Tag(number, 0).Concat(Varint(1));

    private static IEnumerable<byte> Tag(int number, int wireType) => Varint(((ulong)number << 3) | (uint)wireType);

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
        return [.. bytes];
    }
}
