using Google.Protobuf.Reflection;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>
/// Random encodings of a request type, well-formed and not: fields in any order, a field sent twice with
/// different values, with a wire type not its own, embedded messages in two occurrences, unknown fields,
/// packed and unpacked repeated scalars; and now and then something protobuf refuses (a truncated
/// message, a length past the end, a tag that is no tag, groups that do not close, nesting past the limit).
/// </summary>
sealed class RequestFuzz(Random random)
{
    private const int MaxDepth = 3;

    private static readonly string[] Strings = ["", "x", "reg-1", "reg-2", "sig-1", "rc-1", "consent-1", "pl-1", "ümlaut-ñ", new('a', 129)];

    private static readonly ulong[] Varints = [0, 1, 2, 3, 127, 128, 300, int.MaxValue, uint.MaxValue, ulong.MaxValue, unchecked((ulong)-1L), 1UL << 35];

    /// <summary>One message of <paramref name="type"/>; <paramref name="preferred"/> (a field a precondition needs) turns up more often.</summary>
    public byte[] Message(MessageDescriptor type, FieldDescriptor? preferred)
    {
        var wire = Fields(type, 0, preferred);
        if (random.Next(5) == 0)
        {
            return Malformed(wire.ToArray());
        }
        return wire.ToArray();
    }

    private WireBytes Fields(MessageDescriptor type, int depth, FieldDescriptor? preferred = null)
    {
        var wire = new WireBytes();
        var fields = type.Fields.InFieldNumberOrder();
        var count = depth >= MaxDepth ? random.Next(0, 2) : random.Next(0, 6);
        var preferredAt = preferred is not null && random.Next(3) > 0 ? random.Next(count + 1) : -1;
        for (var i = 0; i <= count; i++)
        {
            if (i == preferredAt)
            {
                Field(wire, preferred!, depth);
            }
            if (i == count)
            {
                break;
            }
            if (fields.Count == 0 || random.Next(8) == 0)
            {
                Unknown(wire);
                continue;
            }
            var field = fields[random.Next(fields.Count)];
            // Twice now and then: the same field with (most likely) another value, or an embedded message in two parts.
            var times = random.Next(4) == 0 ? 2 : 1;
            for (var t = 0; t < times; t++)
            {
                Field(wire, field, depth);
            }
        }
        return wire;
    }

    private void Field(WireBytes wire, FieldDescriptor field, int depth)
    {
        var number = field.FieldNumber;
        if (random.Next(10) == 0)
        {
            // The right number with a wire type protobuf does not read as this field.
            AnyValue(wire, number, random.Next(4) switch { 0 => WireBytes.Varint, 1 => WireBytes.Fixed64, 2 => WireBytes.LengthDelimited, _ => WireBytes.Fixed32 });
            return;
        }
        switch (field.FieldType)
        {
            case FieldType.Message:
                wire.MessageField(number, depth >= MaxDepth ? new WireBytes() : Fields(field.MessageType, depth + 1));
                break;
            case FieldType.String:
                if (random.Next(15) == 0)
                {
                    // Not UTF-8.
                    wire.BytesField(number, [0x72, 0xff, 0xfe]);
                }
                else
                {
                    wire.StringField(number, Strings[random.Next(Strings.Length)]);
                }
                break;
            case FieldType.Bytes:
                wire.BytesField(number, RandomBytes(random.Next(0, 6)));
                break;
            case FieldType.Fixed32 or FieldType.SFixed32 or FieldType.Float:
                Scalar(wire, field, () => new WireBytes().Raw(RandomBytes(4)));
                break;
            case FieldType.Fixed64 or FieldType.SFixed64 or FieldType.Double:
                Scalar(wire, field, () => new WireBytes().Raw(RandomBytes(8)));
                break;
            default:
                Scalar(wire, field, () => new WireBytes().RawVarint(Varint()));
                break;
        }
    }

    /// <summary>A scalar: alone, or (for a repeated field) packed several to one length-delimited field.</summary>
    private void Scalar(WireBytes wire, FieldDescriptor field, Func<WireBytes> value)
    {
        if (field.IsRepeated && random.Next(2) == 0)
        {
            var packed = new WireBytes();
            for (var i = random.Next(0, 4); i > 0; i--)
            {
                packed.Raw(value().ToArray());
            }
            wire.MessageField(field.FieldNumber, packed);
            return;
        }
        var wireType = field.FieldType switch
        {
            FieldType.Fixed32 or FieldType.SFixed32 or FieldType.Float => WireBytes.Fixed32,
            FieldType.Fixed64 or FieldType.SFixed64 or FieldType.Double => WireBytes.Fixed64,
            _ => WireBytes.Varint,
        };
        wire.Tag(field.FieldNumber, wireType).Raw(value().ToArray());
    }

    private void Unknown(WireBytes wire) => AnyValue(wire, SampleMessages.UnknownFieldNumber + random.Next(0, 3), random.Next(4) switch
    {
        0 => WireBytes.Varint,
        1 => WireBytes.Fixed64,
        2 => WireBytes.LengthDelimited,
        _ => WireBytes.Fixed32,
    });

    private void AnyValue(WireBytes wire, int number, int wireType)
    {
        switch (wireType)
        {
            case WireBytes.Varint:
                wire.VarintField(number, Varint());
                break;
            case WireBytes.Fixed64:
                wire.Fixed64Field(number, (ulong)random.NextInt64());
                break;
            case WireBytes.LengthDelimited:
                wire.BytesField(number, random.Next(2) == 0 ? RandomBytes(random.Next(0, 5)) : System.Text.Encoding.UTF8.GetBytes(Strings[random.Next(Strings.Length)]));
                break;
            default:
                wire.Fixed32Field(number, (uint)random.Next());
                break;
        }
    }

    private ulong Varint() => random.Next(4) == 0 ? (ulong)random.NextInt64() : Varints[random.Next(Varints.Length)];

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>The message spoiled one way or another; some spoiled messages still parse (a cut between fields).</summary>
    private byte[] Malformed(byte[] message)
    {
        var spoiled = new WireBytes().Raw(message);
        switch (random.Next(9))
        {
            case 0:
                return message.Length == 0 ? [0x0a] : message[..random.Next(message.Length)];
            case 1:
                // Wire types 6 and 7 do not exist: at the end of the message, or followed by more.
                spoiled.Tag(random.Next(1, 4), 6 + random.Next(2));
                if (random.Next(2) == 0)
                {
                    spoiled.VarintField(1, 1);
                }
                break;
            case 2:
                // Field number 0.
                spoiled.Tag(0, WireBytes.Varint).RawVarint(1);
                break;
            case 3:
                // A length past the end.
                spoiled.Tag(1, WireBytes.LengthDelimited).RawVarint(50).Raw(0x61);
                break;
            case 4:
                // A varint of eleven bytes.
                spoiled.Tag(1, WireBytes.Varint).Raw(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
                break;
            case 5:
                // An end-group without its start.
                spoiled.Tag(SampleMessages.UnknownFieldNumber, 4);
                break;
            case 6:
                // A group of an unknown field, closed (protobuf skips it) or not.
                spoiled.Tag(SampleMessages.UnknownFieldNumber, 3).VarintField(1, 1);
                if (random.Next(2) == 0)
                {
                    spoiled.Tag(SampleMessages.UnknownFieldNumber, 4);
                }
                break;
            case 7:
                // Groups nested past protobuf's recursion limit.
                for (var i = 0; i < 120; i++)
                {
                    spoiled.Tag(SampleMessages.UnknownFieldNumber, 3);
                }
                for (var i = 0; i < 120; i++)
                {
                    spoiled.Tag(SampleMessages.UnknownFieldNumber, 4);
                }
                break;
            default:
                if (message.Length == 0)
                {
                    return [0xff];
                }
                var flipped = message.ToArray();
                flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                return flipped;
        }
        return spoiled.ToArray();
    }
}
