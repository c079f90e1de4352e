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
    /// The boxes as posted, against how the page showed them (<paramref name="shown"/>: the boxes it rendered ticked),
    /// as a mask. A box the officer changed decides its whole message: ticked, all of it passes; unticked, none of it.
    /// A box left as it was defers to the fields below it: a message shown whole passes whole unless one of its
    /// fields was unticked, and then only its fields still ticked pass. A path not in the tree is no field the editor
    /// showed, and is left out.
    /// </summary>
    public static IReadOnlyList<string> ToMask(IEnumerable<string> ticked, IEnumerable<string> shown, IReadOnlyList<FieldNode> tree)
    {
        var now = ticked.ToHashSet(StringComparer.Ordinal);
        var before = shown.ToHashSet(StringComparer.Ordinal);
        bool Changed(FieldNode node) => now.Contains(node.Path) != before.Contains(node.Path);
        var mask = new List<string>();
        void Walk(IEnumerable<FieldNode> nodes)
        {
            foreach (var node in nodes)
            {
                if (Changed(node))
                {
                    if (now.Contains(node.Path))
                    {
                        mask.Add(node.Path);
                    }
                }
                else if (now.Contains(node.Path) && !Flatten(node.Children).Any(Changed))
                {
                    mask.Add(node.Path);
                }
                else
                {
                    Walk(node.Children);
                }
            }
        }

        Walk(tree);
        return mask.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The boxes a page shows ticked for <paramref name="mask"/>: every field it keeps.</summary>
    public static IEnumerable<string> Shown(IReadOnlyCollection<string> mask, IReadOnlyList<FieldNode> tree) =>
        Flatten(tree).Where(n => Keeps(mask, n.Path)).Select(n => n.Path);

    /// <summary>Whether a mask keeps a path: the path, or one of its parents, is in it ("*" keeps everything).</summary>
    public static bool Keeps(IReadOnlyCollection<string> mask, string path) =>
        mask.Contains("*") || mask.Any(m => m == path || path.StartsWith(m + ".", StringComparison.Ordinal));
}
