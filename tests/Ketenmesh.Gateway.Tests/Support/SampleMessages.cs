using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>
/// Messages with every field set (repeated fields twice, maps with an entry, nested to a fixed depth),
/// so a leak of any field shows up on the wire.
/// </summary>
static class SampleMessages
{
    /// <summary>A field number no chain contract uses: what a newer service version might add.</summary>
    public const int UnknownFieldNumber = 1999;

    public static byte[] Full(MessageDescriptor type)
    {
        var bytes = Fill(type, depth: 0).ToByteArray();
        // Append an unknown varint field: tag (1999 << 3 | 0), value 1.
        var unknown = new CodedOutputStreamBuffer();
        unknown.WriteTag(UnknownFieldNumber, WireFormat.WireType.Varint);
        unknown.WriteVarint(1);
        return [.. bytes, .. unknown.ToArray()];
    }

    private static IMessage Fill(MessageDescriptor type, int depth)
    {
        var message = (IMessage)Activator.CreateInstance(type.ClrType)!;
        if (depth > 5)
        {
            return message;
        }
        foreach (var field in type.Fields.InDeclarationOrder())
        {
            if (field.IsMap)
            {
                var map = (IDictionary)field.Accessor.GetValue(message);
                map.Add(Sample(field.MessageType.FindFieldByNumber(1), depth)!, Sample(field.MessageType.FindFieldByNumber(2), depth));
            }
            else if (field.IsRepeated)
            {
                var list = (IList)field.Accessor.GetValue(message);
                list.Add(Sample(field, depth));
                list.Add(Sample(field, depth));
            }
            else if (field.RealContainingOneof is null || field.RealContainingOneof.Fields[0] == field)
            {
                field.Accessor.SetValue(message, Sample(field, depth));
            }
        }
        return message;
    }

    private static object? Sample(FieldDescriptor field, int depth) => field.FieldType switch
    {
        FieldType.String => "s-" + field.Name,
        FieldType.Bytes => ByteString.CopyFromUtf8("b-" + field.Name),
        FieldType.Bool => true,
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => 7,
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => 7L,
        FieldType.UInt32 or FieldType.Fixed32 => 7u,
        FieldType.UInt64 or FieldType.Fixed64 => 7ul,
        FieldType.Float => 1.5f,
        FieldType.Double => 1.5d,
        FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, field.EnumType.Values.FirstOrDefault(v => v.Number != 0)?.Number ?? 0),
        FieldType.Message when IsWrapper(field.MessageType) => Sample(field.MessageType.FindFieldByNumber(1), depth),
        FieldType.Message => Fill(field.MessageType, depth + 1),
        _ => throw new NotSupportedException(field.FieldType.ToString()),
    };

    private static bool IsWrapper(MessageDescriptor type) =>
        type.File.Name == "google/protobuf/wrappers.proto";

    /// <summary>A tiny writer for the unknown field, so the sample need not depend on CodedOutputStream internals.</summary>
    private sealed class CodedOutputStreamBuffer
    {
        private readonly MemoryStream _stream = new();
        private readonly CodedOutputStream _output;

        public CodedOutputStreamBuffer() => _output = new CodedOutputStream(_stream, leaveOpen: true);

        public void WriteTag(int number, WireFormat.WireType type) => _output.WriteTag(number, type);

        public void WriteVarint(ulong value) => _output.WriteUInt64(value);

        public byte[] ToArray()
        {
            _output.Flush();
            return _stream.ToArray();
        }
    }
}
