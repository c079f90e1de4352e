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

    /// <summary>Null when the request message meets the grant's preconditions, else why not.</summary>
    public string? CheckRequest(ReadOnlySpan<byte> request)
    {
        if (RequiredRequestFields.Count == 0)
        {
            return null;
        }
        var present = new HashSet<int>();
        var reader = new WireReader(request);
        while (!reader.AtEnd)
        {
            reader.ReadField(out var number, out _, out _, out var value);
            // proto3 never writes a default scalar, so a field on the wire is a field that is set;
            // an explicitly empty string or message still says nothing and does not count.
            if (value.Length > 0 || !IsLengthDelimited(number))
            {
                present.Add(number);
            }
        }
        var missing = RequiredRequestFields.Where(f => !present.Contains(f.FieldNumber)).Select(f => f.Name).ToList();
        return missing.Count == 0
            ? null
            : $"The grant allows {FullName} only when the request sets {string.Join(", ", missing)}.";
    }

    private bool IsLengthDelimited(int number) =>
        Method.InputType.FindFieldByNumber(number) is { } field
        && field.FieldType is FieldType.String or FieldType.Bytes or FieldType.Message;
}
