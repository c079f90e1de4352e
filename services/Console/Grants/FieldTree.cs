using Google.Protobuf.Reflection;

namespace Ketenmesh.OfficerConsole.Grants;

/// <summary>One field of a response message as the mask editor shows it: its FieldMask path, its description, its children.</summary>
public sealed record FieldNode(string Path, string Name, string Type, bool Repeated, string Description, IReadOnlyList<FieldNode> Children)
{
    /// <summary>A checkbox's id: a mask path as an HTML id.</summary>
    public string Id => "field-" + Path.Replace('.', '-');
}

/// <summary>
/// A message's field tree from its descriptor: nested, repeated and map-valued messages descend (a mask path
/// reaches into them, as Ketenmesh.Policy's masks do); well-known types and recursion stop at the field.
/// </summary>
public static class FieldTree
{
    public static IReadOnlyList<FieldNode> Of(MessageDescriptor message, ProtoComments comments) =>
        Children(message, "", comments, [message.FullName]);

    static List<FieldNode> Children(MessageDescriptor message, string prefix, ProtoComments comments, HashSet<string> seen) =>
        message.Fields.InDeclarationOrder().Select(field =>
        {
            var path = prefix + field.Name;
            var target = field.IsMap ? field.MessageType.FindFieldByNumber(2) : field;
            var children = target.FieldType == FieldType.Message && Descends(target.MessageType) && !seen.Contains(target.MessageType.FullName)
                ? Children(target.MessageType, path + ".", comments, [.. seen, target.MessageType.FullName])
                : [];
            return new FieldNode(path, field.Name, TypeName(field), field.IsRepeated && !field.IsMap, comments.Of(field), children);
        }).ToList();

    /// <summary>Timestamps, durations, wrappers and field masks are one value each to an officer.</summary>
    static bool Descends(MessageDescriptor type) => !type.FullName.StartsWith("google.protobuf.", StringComparison.Ordinal);

    static string TypeName(FieldDescriptor field) => field switch
    {
        { IsMap: true } => $"map of {TypeName(field.MessageType.FindFieldByNumber(2))}",
        { FieldType: FieldType.Message } => field.MessageType.Name,
        { FieldType: FieldType.Enum } => field.EnumType.Name,
        _ => field.FieldType.ToString().ToLowerInvariant(),
    };

    /// <summary>Every path in the tree, depth first.</summary>
    public static IEnumerable<FieldNode> Flatten(IEnumerable<FieldNode> nodes) =>
        nodes.SelectMany(n => Flatten(n.Children).Prepend(n));

    /// <summary>
    /// The ticked boxes of a tree as a mask. A ticked message keeps the whole message when all of its fields are
    /// ticked too, or none of them (the officer ticked the message alone); when only some are (the editor shows a
    /// kept message with every field ticked, and the officer unticked some), it keeps only the ticked ones. A path
    /// that is not in the tree is not a field the editor showed, and is left out.
    /// </summary>
    public static IReadOnlyList<string> ToMask(IEnumerable<string> ticked, IReadOnlyList<FieldNode> tree)
    {
        var set = ticked.ToHashSet(StringComparer.Ordinal);
        var mask = new List<string>();
        void Walk(IEnumerable<FieldNode> nodes)
        {
            foreach (var node in nodes)
            {
                var below = Flatten(node.Children).Count(d => set.Contains(d.Path));
                if (set.Contains(node.Path) && (below == 0 || below == Flatten(node.Children).Count()))
                {
                    mask.Add(node.Path);
                }
                else if (below > 0)
                {
                    Walk(node.Children);
                }
            }
        }

        Walk(tree);
        return mask.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Whether a mask keeps a path: the path, or one of its parents, is in it ("*" keeps everything).</summary>
    public static bool Keeps(IReadOnlyCollection<string> mask, string path) =>
        mask.Contains("*") || mask.Any(m => m == path || path.StartsWith(m + ".", StringComparison.Ordinal));
}
