namespace Ketenmesh.Policy.Masks;

/// <summary>
/// Just enough of the protobuf wire format to walk a message field by field without knowing its
/// C# type: tags, varints and the extent of each value. Anything malformed throws, so a response
/// that cannot be read is never passed on half-filtered.
/// </summary>
internal ref struct WireReader(ReadOnlySpan<byte> buffer)
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;

    public readonly bool AtEnd => _position >= _buffer.Length;

    /// <summary>Reads one field: its number, wire type, the whole field (tag included) and its value's bytes.</summary>
    public void ReadField(out int number, out int wireType, out ReadOnlySpan<byte> whole, out ReadOnlySpan<byte> value)
    {
        var start = _position;
        var tag = ReadVarint();
        number = checked((int)(tag >> 3));
        wireType = (int)(tag & 7);
        if (number == 0)
        {
            throw new InvalidDataException("Field number 0 is not valid protobuf.");
        }
        var valueStart = _position;
        switch (wireType)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Skip(8);
                break;
            case Fixed32:
                Skip(4);
                break;
            case LengthDelimited:
                var length = ReadVarint();
                if (length > int.MaxValue)
                {
                    throw new InvalidDataException("Length-delimited field is too long.");
                }
                valueStart = _position;
                Skip((int)length);
                break;
            default:
                // Groups (3, 4) do not exist in proto3; 6 and 7 are not wire types at all.
                throw new InvalidDataException($"Wire type {wireType} is not supported.");
        }
        whole = _buffer[start.._position];
        value = _buffer[valueStart.._position];
    }

    private ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _buffer.Length)
            {
                throw new InvalidDataException("Truncated varint.");
            }
            var b = _buffer[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
        throw new InvalidDataException("Varint longer than 10 bytes.");
    }

    private void Skip(int count)
    {
        if (count > _buffer.Length - _position)
        {
            throw new InvalidDataException("Field runs past the end of the message.");
        }
        _position += count;
    }

    public static int WriteVarint(Span<byte> target, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            target[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        target[i++] = (byte)value;
        return i;
    }
}
