using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Ketenmesh.Policy.Decisions;

/// <summary>
/// The data subject a request names, for the audit log: the chain's own pseudonymous identifiers
/// (a registration, signal, return case or placement id), never a name or a link key's input.
/// </summary>
public static class SubjectPseudonym
{
    /// <summary>Longer than any identifier the chain issues; such a value names no subject.</summary>
    private const int MaxLength = 128;

    private static readonly string[] SubjectFields = ["registration_id", "signal_id", "return_case_id", "placement_id", "assessment_id"];

    // Per request type, once: this runs on every call through the gateway.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<MessageDescriptor, FieldDescriptor[]> Fields = new();

    /// <summary>
    /// The subject field the request sets, as <c>field:value</c> (the lowest-numbered one when it sets
    /// several); null when it names none. The request is the message as protobuf parsed it, so this is
    /// the value the service reads, whatever occurrences were sent.
    /// </summary>
    public static string? Find(IMessage request)
    {
        foreach (var field in Fields.GetOrAdd(request.Descriptor, SubjectFieldsOf))
        {
            if (field.Accessor.GetValue(request) is string { Length: > 0 } value && System.Text.Encoding.UTF8.GetByteCount(value) <= MaxLength)
            {
                return $"{field.Name}:{value}";
            }
        }
        return null;
    }

    private static FieldDescriptor[] SubjectFieldsOf(MessageDescriptor requestType) =>
        requestType.Fields.InFieldNumberOrder()
            .Where(f => f is { FieldType: FieldType.String, IsRepeated: false } && SubjectFields.Contains(f.Name))
            .ToArray();
}
