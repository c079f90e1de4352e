using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace Ketenmesh.OfficerConsole.Grants;

/// <summary>
/// A made-up response with every field set (one element per list, one entry per map), from the descriptor:
/// what the simulation shows whole and then cut by the grant's mask, as the gateway cuts the wire bytes.
/// </summary>
public static class SampleResponse
{
    const int MaxDepth = 5;

    public static IMessage For(MessageDescriptor type) => Build(type, 0, []);

    static IMessage Build(MessageDescriptor type, int depth, HashSet<string> path)
    {
        var message = type.Parser.ParseFrom(ByteString.Empty);
        if (type.FullName == Timestamp.Descriptor.FullName)
        {
            return Timestamp.FromDateTime(new DateTime(2026, 3, 1, 9, 30, 0, DateTimeKind.Utc));
        }

        if (depth >= MaxDepth || path.Contains(type.FullName) || type.FullName.StartsWith("google.protobuf.", StringComparison.Ordinal))
        {
            return message;
        }

        var inner = new HashSet<string>(path) { type.FullName };
        foreach (var field in type.Fields.InDeclarationOrder())
        {
            if (field.RealContainingOneof is { } oneof && oneof.Fields[0] != field)
            {
                continue; // one member of a oneof is enough
            }

            if (field.IsMap)
            {
                var entry = field.MessageType;
                ((IDictionary)field.Accessor.GetValue(message))[Value(entry.FindFieldByNumber(1), depth, inner)] = Value(entry.FindFieldByNumber(2), depth, inner);
            }
            else if (field.IsRepeated)
            {
                ((IList)field.Accessor.GetValue(message)).Add(Value(field, depth, inner));
            }
            else
            {
                field.Accessor.SetValue(message, Value(field, depth, inner));
            }
        }

        return message;
    }

    static object Value(FieldDescriptor field, int depth, HashSet<string> path) => field.FieldType switch
    {
        FieldType.String => $"sample {field.Name}",
        FieldType.Bytes => ByteString.CopyFromUtf8("sample"),
        FieldType.Bool => true,
        FieldType.Double => 1.5d,
        FieldType.Float => 1.5f,
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => 7L,
        FieldType.UInt64 or FieldType.Fixed64 => 7UL,
        FieldType.UInt32 or FieldType.Fixed32 => 7U,
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => 7,
        FieldType.Enum => System.Enum.ToObject(field.EnumType.ClrType, field.EnumType.Values.FirstOrDefault(v => v.Number != 0)?.Number ?? 0),
        FieldType.Message or FieldType.Group => Build(field.MessageType, depth + 1, path),
        _ => throw new NotSupportedException($"{field.FieldType} in {field.FullName}"),
    };
}
