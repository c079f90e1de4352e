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

    /// <summary>A person: what a lookup that finds someone names in its answer.</summary>
    private const string PersonField = "registration_id";

    /// <summary>More than any lookup answers with; what lies beyond is not read for subjects.</summary>
    public const int MaxFound = 100;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<MessageDescriptor, bool> NamesPersons = new();

    /// <summary>True when a message of <paramref name="type"/> can name a person anywhere in it (a registration id).</summary>
    public static bool MayNamePersons(MessageDescriptor type) => NamesPersons.GetOrAdd(type, t => Reaches(t, []));

    /// <summary>
    /// The persons an answer names other than <paramref name="asked"/> (the subject the request named, already on
    /// record), as <c>registration_id:value</c>, distinct, at most <see cref="MaxFound"/>: a lookup such as
    /// FindByLinkKeys names no one in its request, yet tells the caller about everyone it finds.
    /// </summary>
    public static IReadOnlyList<string> FoundIn(IMessage answer, string? asked)
    {
        var found = new List<string>();
        Collect(answer, asked, found, depth: 0);
        return found;
    }

    private static void Collect(IMessage message, string? asked, List<string> found, int depth)
    {
        if (depth > 16 || !MayNamePersons(message.Descriptor))
        {
            return;
        }
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (found.Count >= MaxFound)
            {
                return;
            }
            if (field is { Name: PersonField, FieldType: FieldType.String, IsRepeated: false })
            {
                if (field.Accessor.GetValue(message) is string { Length: > 0 } value && System.Text.Encoding.UTF8.GetByteCount(value) <= MaxLength
                    && $"{PersonField}:{value}" is var subject && subject != asked && !found.Contains(subject))
                {
                    found.Add(subject);
                }
            }
            else if (field is { FieldType: FieldType.Message, IsMap: false })
            {
                if (field.IsRepeated)
                {
                    foreach (var item in (System.Collections.IList)field.Accessor.GetValue(message))
                    {
                        Collect((IMessage)item, asked, found, depth + 1);
                    }
                }
                else if (field.Accessor.GetValue(message) is IMessage child)
                {
                    Collect(child, asked, found, depth + 1);
                }
            }
        }
    }

    private static bool Reaches(MessageDescriptor type, HashSet<MessageDescriptor> seen)
    {
        if (!seen.Add(type))
        {
            return false;
        }
        return type.Fields.InFieldNumberOrder().Any(f =>
            f is { Name: PersonField, FieldType: FieldType.String, IsRepeated: false }
            || f is { FieldType: FieldType.Message, IsMap: false } && Reaches(f.MessageType, seen));
    }

    private static FieldDescriptor[] SubjectFieldsOf(MessageDescriptor requestType) =>
        requestType.Fields.InFieldNumberOrder()
            .Where(f => f is { FieldType: FieldType.String, IsRepeated: false } && SubjectFields.Contains(f.Name))
            .ToArray();
}
