using System.Buffers;
using Google.Protobuf.Reflection;

namespace Ketenmesh.Policy.Masks;

/// <summary>
/// A grant's field mask compiled against one message type. Applied to the serialized message, it
/// keeps the fields named in the mask (descending through nested, repeated and map-valued
/// messages) and drops everything else without deserializing into objects. Fields the contract
/// does not know are dropped everywhere, even under <c>*</c>: a field added to a service after the
/// grant was written has not been granted.
/// </summary>
public sealed class ResponseMask
{
    /// <summary>The mask path that keeps every known field of the message.</summary>
    public const string Everything = "*";

    private readonly MaskNode _root;

    private ResponseMask(MessageDescriptor type, MaskNode root, IReadOnlyList<string> paths)
    {
        Type = type;
        _root = root;
        Paths = paths;
    }

    public MessageDescriptor Type { get; }

    /// <summary>The mask as written, normalised (sorted, distinct).</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>True for <c>*</c>.</summary>
    public bool KeepsEverything => _root.IsComplete;

    internal MaskNode Root => _root;

    /// <summary>Compiles <paramref name="paths"/>; a path naming no field of <paramref name="type"/> is an error.</summary>
    public static ResponseMask Compile(MessageDescriptor type, IEnumerable<string> paths)
    {
        var normalised = paths.Select(p => p.Trim()).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var complete = new Dictionary<MessageDescriptor, MaskNode>();
        if (normalised.Contains(Everything))
        {
            if (normalised.Count > 1)
            {
                throw new MaskException($"The mask path '{Everything}' keeps the whole message and cannot be combined with other paths.");
            }
            return new ResponseMask(type, MaskNode.Complete(type, complete), normalised);
        }
        var root = new MaskNode();
        foreach (var path in normalised)
        {
            AddPath(root, type, path, complete);
        }
        return new ResponseMask(type, root, normalised);
    }

    private static void AddPath(MaskNode root, MessageDescriptor type, string path, Dictionary<MessageDescriptor, MaskNode> complete)
    {
        var node = root;
        var current = type;
        var segments = path.Split('.');
        for (var i = 0; i < segments.Length; i++)
        {
            var field = current.FindFieldByName(segments[i])
                ?? throw new MaskException($"The mask path '{path}' names '{segments[i]}', which is not a field of {current.FullName}.");
            node.Fields.TryGetValue(field.FieldNumber, out var existing);
            if (existing is { IsComplete: true })
            {
                return; // A shorter path already keeps this field whole.
            }
            if (i == segments.Length - 1)
            {
                node.Fields[field.FieldNumber] = field.FieldType == FieldType.Message ? MaskNode.Complete(field.MessageType, complete) : null;
                return;
            }
            if (field.FieldType != FieldType.Message)
            {
                throw new MaskException($"The mask path '{path}' descends into '{field.Name}', which is not a message.");
            }
            var child = existing ?? new MaskNode();
            node.Fields[field.FieldNumber] = child;
            if (field.IsMap)
            {
                // A map is a repeated entry message: keep every key, filter the values.
                var valueField = field.MessageType.FindFieldByNumber(2);
                if (valueField.FieldType != FieldType.Message)
                {
                    throw new MaskException($"The mask path '{path}' descends into map '{field.Name}', whose values are not messages.");
                }
                child.Fields[1] = null;
                child.Fields.TryGetValue(2, out var valueNode);
                if (valueNode is { IsComplete: true })
                {
                    return;
                }
                valueNode ??= new MaskNode();
                child.Fields[2] = valueNode;
                node = valueNode;
                current = valueField.MessageType;
            }
            else
            {
                node = child;
                current = field.MessageType;
            }
        }
    }

    /// <summary>Writes the masked copy of <paramref name="message"/> to <paramref name="output"/>.</summary>
    /// <exception cref="InvalidDataException">The message is not valid protobuf.</exception>
    public void Apply(ReadOnlySpan<byte> message, IBufferWriter<byte> output) => Filter(_root, message, output);

    /// <summary>The masked copy as a new array.</summary>
    public byte[] Apply(ReadOnlySpan<byte> message)
    {
        var output = new ArrayBufferWriter<byte>(Math.Max(16, message.Length));
        Apply(message, output);
        return output.WrittenSpan.ToArray();
    }

    private static void Filter(MaskNode node, ReadOnlySpan<byte> message, IBufferWriter<byte> output)
    {
        var reader = new WireReader(message);
        Span<byte> header = stackalloc byte[20];
        while (!reader.AtEnd)
        {
            reader.ReadField(out var number, out var wireType, out var whole, out var value);
            if (!node.Fields.TryGetValue(number, out var child))
            {
                continue;
            }
            if (child is null)
            {
                output.Write(whole);
                continue;
            }
            if (wireType != WireReader.LengthDelimited)
            {
                // The descriptor says message, the bytes say otherwise: the peer is not speaking this contract.
                throw new InvalidDataException($"Field {number} should be a message but has wire type {wireType}.");
            }
            var nested = new ArrayBufferWriter<byte>(Math.Max(16, value.Length));
            Filter(child, value, nested);
            var length = WireReader.WriteVarint(header, ((ulong)number << 3) | WireReader.LengthDelimited);
            length += WireReader.WriteVarint(header[length..], (ulong)nested.WrittenCount);
            output.Write(header[..length]);
            output.Write(nested.WrittenSpan);
        }
    }

    /// <summary>Field paths of the type the mask removes: for a simulation's "what would be withheld".</summary>
    public IReadOnlyList<string> RemovedPaths()
    {
        var removed = new List<string>();
        CollectRemoved(_root, Type, prefix: "", removed);
        return removed;
    }

    private static void CollectRemoved(MaskNode node, MessageDescriptor type, string prefix, List<string> removed)
    {
        if (node.IsComplete)
        {
            return;
        }
        foreach (var field in type.Fields.InFieldNumberOrder())
        {
            var path = prefix + field.Name;
            if (!node.Fields.TryGetValue(field.FieldNumber, out var child))
            {
                removed.Add(path);
            }
            else if (child is not null)
            {
                if (field.IsMap)
                {
                    CollectRemoved(child.Fields[2]!, field.MessageType.FindFieldByNumber(2).MessageType, path + ".", removed);
                }
                else
                {
                    CollectRemoved(child, field.MessageType, path + ".", removed);
                }
            }
        }
    }
}

/// <summary>A field mask that does not fit the message it is meant for.</summary>
public sealed class MaskException(string message) : Exception(message);
