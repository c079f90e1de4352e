namespace Ketenmesh.Policy.Masks;

/// <summary>
/// One message level of a compiled mask: the field numbers that may stay. A field mapped to null
/// stays whole; a field mapped to a node is a message (or repeated message, or map entry) filtered
/// in turn. Every field number not listed, including unknown ones, is removed.
/// </summary>
internal sealed class MaskNode
{
    public Dictionary<int, MaskNode?> Fields { get; } = [];
}
