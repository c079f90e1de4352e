using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>
/// Reads a serialized message with a plain CodedInputStream (not the gateway's reader) and lists
/// every field path that is on the wire: leaves as <c>a.b.c</c>, containers that arrived empty as
/// well, map values under the map's name. A field number the contract does not know is reported
/// as <c>?number</c>.
/// </summary>
static class WireFields
{
    public static List<(string Path, bool Container)> Present(MessageDescriptor type, byte[] message)
    {
        var found = new List<(string, bool)>();
        Walk(type, message, "", found);
        return found;
    }

    private static void Walk(MessageDescriptor type, byte[] message, string prefix, List<(string, bool)> found)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            var field = type.FindFieldByNumber(number);
            if (field is null)
            {
                found.Add((prefix + "?" + number, false));
                input.SkipLastField();
                continue;
            }
            var path = prefix + field.Name;
            if (field.FieldType != FieldType.Message || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                found.Add((path, false));
                input.SkipLastField();
                continue;
            }
            var bytes = input.ReadBytes().ToByteArray();
            if (field.IsMap)
            {
                found.Add((path, true));
                var entry = field.MessageType;
                var valueField = entry.FindFieldByNumber(2);
                foreach (var (entryPath, container) in Present(entry, bytes))
                {
                    if (entryPath == "value" && valueField.FieldType != FieldType.Message)
                    {
                        found.Add((path, false));
                    }
                    else if (entryPath.StartsWith("value.", StringComparison.Ordinal))
                    {
                        found.Add((path + entryPath["value".Length..], container));
                    }
                    else if (entryPath.StartsWith('?'))
                    {
                        found.Add((path + "." + entryPath, false));
                    }
                }
                continue;
            }
            if (bytes.Length == 0)
            {
                found.Add((path, true));
                continue;
            }
            Walk(field.MessageType, bytes, path + ".", found);
        }
    }

    /// <summary>True when a mask with <paramref name="maskPaths"/> lets <paramref name="path"/> through.</summary>
    public static bool Covered(IReadOnlyCollection<string> maskPaths, string path, bool container)
    {
        if (path.Contains('?'))
        {
            return false;
        }
        return maskPaths.Contains("*")
            || maskPaths.Any(m => path == m || path.StartsWith(m + ".", StringComparison.Ordinal)
                || (container && m.StartsWith(path + ".", StringComparison.Ordinal)));
    }
}
