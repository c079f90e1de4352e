using System.Buffers.Binary;
using System.Text;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>
/// Writes protobuf wire format by hand, field by field, so a test can send what no generated encoder
/// would: a field twice, with another wire type, a nested message in two parts, a tag that is no tag.
/// </summary>
sealed class WireBytes
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public WireBytes Tag(int number, int wireType) => RawVarint(((ulong)(uint)number << 3) | (uint)wireType);

    public WireBytes RawVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.Add((byte)value);
        return this;
    }

    public WireBytes Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public WireBytes VarintField(int number, ulong value) => Tag(number, Varint).RawVarint(value);

    public WireBytes Fixed32Field(int number, uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return Tag(number, Fixed32).Raw(bytes);
    }

    public WireBytes Fixed64Field(int number, ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return Tag(number, Fixed64).Raw(bytes);
    }

    public WireBytes BytesField(int number, byte[] value) => Tag(number, LengthDelimited).RawVarint((ulong)value.Length).Raw(value);

    public WireBytes StringField(int number, string value) => BytesField(number, Encoding.UTF8.GetBytes(value));

    public WireBytes MessageField(int number, WireBytes message) => BytesField(number, message.ToArray());

    public byte[] ToArray() => [.. _bytes];
}
