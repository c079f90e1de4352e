using Google.Protobuf.Reflection;
using Ketenmesh.Policy.Masks;

namespace Ketenmesh.Policy.Decisions;

/// <summary>
/// The data subject a request names, for the audit log: the chain's own pseudonymous identifiers
/// (a registration, signal, return case or placement id), never a name or a link key's input.
/// </summary>
public static class SubjectPseudonym
{
    private static readonly string[] SubjectFields = ["registration_id", "signal_id", "return_case_id", "placement_id", "assessment_id"];

    // Per request type, once: this runs on every call through the gateway.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<MessageDescriptor, Dictionary<int, string>> Fields = new();

    /// <summary>The first subject field the request sets, as <c>field:value</c>; null when it names none.</summary>
    public static string? Find(MessageDescriptor requestType, ReadOnlySpan<byte> request)
    {
        var numbers = Fields.GetOrAdd(requestType, SubjectFieldsOf);
        if (numbers.Count == 0)
        {
            return null;
        }
        var reader = new WireReader(request);
        while (!reader.AtEnd)
        {
            reader.ReadField(out var number, out var wireType, out _, out var value);
            if (wireType == WireReader.LengthDelimited && value.Length is > 0 and <= 128 && numbers.TryGetValue(number, out var name))
            {
                return $"{name}:{System.Text.Encoding.UTF8.GetString(value)}";
            }
        }
        return null;
    }

    private static Dictionary<int, string> SubjectFieldsOf(MessageDescriptor requestType)
    {
        var numbers = new Dictionary<int, string>();
        foreach (var name in SubjectFields)
        {
            if (requestType.FindFieldByName(name) is { FieldType: FieldType.String } field)
            {
                numbers[field.FieldNumber] = name;
            }
        }
        return numbers;
    }
}
