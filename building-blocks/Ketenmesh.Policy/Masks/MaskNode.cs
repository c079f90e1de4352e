using Google.Protobuf.Reflection;

namespace Ketenmesh.Policy.Masks;

/// <summary>
/// One message level of a compiled mask: the field numbers that may stay. A scalar field mapped to
/// null is copied as it is; a message field maps to the node that filters it in turn. Every field
/// number not listed, unknown ones included, is removed, at every depth.
/// </summary>
internal sealed class MaskNode
{
    public Dictionary<int, MaskNode?> Fields { get; } = [];

    /// <summary>Keeps every field the contract knows, all the way down (what a mask path naming a whole message means).</summary>
    public bool IsComplete { get; private init; }

    /// <summary>
    /// The complete node of <paramref name="type"/>. Nodes are shared per type through
    /// <paramref name="built"/>, so recursive types give a finite graph (the data, not the node graph, is finite).
    /// </summary>
    public static MaskNode Complete(MessageDescriptor type, Dictionary<MessageDescriptor, MaskNode> built)
    {
        if (built.TryGetValue(type, out var existing))
        {
            return existing;
        }
        var node = new MaskNode { IsComplete = true };
        built[type] = node;
        foreach (var field in type.Fields.InFieldNumberOrder())
        {
            node.Fields[field.FieldNumber] = field.FieldType is FieldType.Message or FieldType.Group
                ? Complete(field.MessageType, built)
                : null;
        }
        return node;
    }
}
