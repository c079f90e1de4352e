using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Ketenmesh.Policy.Masks;

namespace Ketenmesh.Policy.Decisions;

/// <summary>What one grant lets a partner do with one method: the response mask and the request's preconditions.</summary>
public sealed class MethodAccess(MethodDescriptor method, ResponseMask responseMask, IReadOnlyList<FieldDescriptor> requiredRequestFields)
{
    public MethodDescriptor Method { get; } = method;

    public string FullName { get; } = MethodCatalog.NameOf(method);

    public ResponseMask ResponseMask { get; } = responseMask;

    public IReadOnlyList<FieldDescriptor> RequiredRequestFields { get; } = requiredRequestFields;

    /// <summary>
    /// Null when the request meets the grant's preconditions, else why not. The request is the message as
    /// protobuf parsed it (last occurrence wins, embedded messages merged, wire types checked), which is
    /// what the service reads: never the bytes as sent.
    /// </summary>
    public string? CheckRequest(IMessage request)
    {
        if (RequiredRequestFields.Count == 0)
        {
            return null;
        }
        var missing = RequiredRequestFields.Where(f => !Says(f, request)).Select(f => f.Name).ToList();
        return missing.Count == 0
            ? null
            : $"The grant allows {FullName} only when the request sets {string.Join(", ", missing)}.";
    }

    /// <summary>
    /// Whether the field carries something: its encoding puts a value on the wire, and more than an empty
    /// string, bytes or message, which say nothing (proto3 cannot tell "" from never sent).
    /// </summary>
    private static bool Says(FieldDescriptor field, IMessage request)
    {
        var value = field.Accessor.GetValue(request);
        if (field.IsMap)
        {
            // Every entry is written with its key and value.
            return ((IDictionary)value).Count > 0;
        }
        if (field.IsRepeated)
        {
            return ((IList)value).Cast<object>().Any(element => !IsEmpty(element));
        }
        if (field.HasPresence && field.FieldType is not FieldType.Message)
        {
            // proto3 optional or a oneof member: set even at its default, unless that is an empty string or bytes.
            return field.Accessor.HasValue(request) && !IsEmpty(value);
        }
        return value is not null && !IsEmpty(value) && !IsDefaultScalar(value);
    }

    private static bool IsEmpty(object value) => value switch
    {
        string text => text.Length == 0,
        ByteString bytes => bytes.Length == 0,
        IMessage message => message.CalculateSize() == 0,
        _ => false,
    };

    /// <summary>A proto3 scalar without presence at its default (0, false, the zero enum value) is never on the wire.</summary>
    private static bool IsDefaultScalar(object value) =>
        value is not (string or ByteString or IMessage) && value.Equals(Activator.CreateInstance(value.GetType()));
}
