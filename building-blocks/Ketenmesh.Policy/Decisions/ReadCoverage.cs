using Google.Protobuf.Reflection;
using Ketenmesh.Policy.Masks;

namespace Ketenmesh.Policy.Decisions;

/// <summary>
/// What one partner may see of each record type, and the limit that puts on the answers of the
/// methods it writes with. A write answers with the record it changed (RecordResidenceStatus with the
/// Registration), so a write whose mask is wider than the partner's read of that record is a read by
/// another route: a no-op write would show everything the read withholds.
/// </summary>
/// <remarks>
/// "The partner's read" of a record type is the union, over all of its published grants and every
/// purpose, of what its read methods (<see cref="MethodCatalog.IsRead"/>) show of that type, wherever
/// the type occurs in their answers (a MergeRecord read inside a Registration counts). The union
/// rather than the same purpose's read alone: the partner can read those fields anyway, so the write
/// shows nothing new, and the gateway still keeps every answer to its own grant's mask. A partner that
/// reads a record type nowhere sees of it in a write's answer only what names the record it wrote:
/// the record's own id (its first field, a string named *_id), its version (to write again without a
/// stale-version refusal) and its client_request_id (the caller's own idempotency key). What else it
/// wrote is in its own request; the answer need not repeat it. Only the records an answer carries as
/// its top-level fields are limited; a scalar of the answer itself (duplicate, shared_at) is no record.
/// </remarks>
public sealed class ReadCoverage
{
    private readonly Dictionary<MessageDescriptor, HashSet<string>> _read = [];

    /// <summary>The coverage of one partner's read rules.</summary>
    public static ReadCoverage Of(IEnumerable<(string Method, ResponseMask Mask)> rules)
    {
        var coverage = new ReadCoverage();
        foreach (var (method, mask) in rules.Where(r => MethodCatalog.IsRead(r.Method)))
        {
            coverage.AddOccurrences(mask.Root, mask.Type, []);
        }
        return coverage;
    }

    /// <summary>
    /// The fields of records in an answer masked by <paramref name="writeMask"/> that the partner's reads
    /// withhold, as paths of the answer (a withheld subtree named once, at its top).
    /// </summary>
    public IReadOnlyList<string> Excess(ResponseMask writeMask)
    {
        var excess = new List<string>();
        foreach (var (name, node, type) in Children(writeMask.Root, writeMask.Type))
        {
            if (node is null || type is null)
            {
                continue;
            }
            var allowed = Allowed(type);
            CollectExcess(node, type, name + ".", "", allowed, excess, [type]);
        }
        return excess;
    }

    /// <summary><paramref name="writeMask"/> cut down to what the partner's reads show of each record; the same mask when it shows no more.</summary>
    public ResponseMask Clamp(ResponseMask writeMask)
    {
        if (Excess(writeMask).Count == 0)
        {
            return writeMask;
        }
        var paths = new List<string>();
        foreach (var (name, node, type) in Children(writeMask.Root, writeMask.Type))
        {
            if (node is null || type is null)
            {
                paths.Add(name);
                continue;
            }
            var allowed = Allowed(type);
            var leaves = new List<string>();
            Leaves(node, type, "", leaves, [type]);
            paths.AddRange(leaves.Where(allowed.Contains).Select(leaf => $"{name}.{leaf}"));
        }
        return ResponseMask.Compile(writeMask.Type, paths);
    }

    private HashSet<string> Allowed(MessageDescriptor type)
    {
        var allowed = new HashSet<string>(Identifiers(type), StringComparer.Ordinal);
        if (_read.TryGetValue(type, out var read))
        {
            allowed.UnionWith(read);
        }
        return allowed;
    }

    /// <summary>What names a record a partner wrote, which it may see in the answer even when it reads the type nowhere.</summary>
    private static IEnumerable<string> Identifiers(MessageDescriptor type)
    {
        if (type.FindFieldByNumber(1) is { FieldType: FieldType.String, IsRepeated: false } own && own.Name.EndsWith("_id", StringComparison.Ordinal))
        {
            yield return own.Name;
        }
        if (type.FindFieldByName("version") is { FieldType: FieldType.Int64 or FieldType.Int32, IsRepeated: false } version)
        {
            yield return version.Name;
        }
        if (type.FindFieldByName("client_request_id") is { FieldType: FieldType.String, IsRepeated: false } request)
        {
            yield return request.Name;
        }
    }

    /// <summary>Records, at every message the read's answer keeps, the leaves it shows relative to that message's type.</summary>
    private void AddOccurrences(MaskNode node, MessageDescriptor type, HashSet<MessageDescriptor> stack)
    {
        if (!stack.Add(type))
        {
            return;
        }
        foreach (var (_, child, childType) in Children(node, type))
        {
            if (child is null || childType is null)
            {
                continue;
            }
            if (!_read.TryGetValue(childType, out var shown))
            {
                _read[childType] = shown = new HashSet<string>(StringComparer.Ordinal);
            }
            var leaves = new List<string>();
            Leaves(child, childType, "", leaves, [childType]);
            shown.UnionWith(leaves);
            AddOccurrences(child, childType, stack);
        }
        stack.Remove(type);
    }

    private static void CollectExcess(MaskNode node, MessageDescriptor type, string answerPrefix, string recordPrefix, HashSet<string> allowed, List<string> excess, HashSet<MessageDescriptor> stack)
    {
        foreach (var (name, child, childType) in Children(node, type))
        {
            var leaves = new List<string>();
            if (child is null || childType is null || stack.Contains(childType) || child.Fields.Count == 0)
            {
                leaves.Add(recordPrefix + name);
            }
            else
            {
                stack.Add(childType);
                Leaves(child, childType, recordPrefix + name + ".", leaves, stack);
                stack.Remove(childType);
            }
            var covered = leaves.Count(allowed.Contains);
            if (covered == leaves.Count)
            {
                continue;
            }
            if (covered == 0 || child is null || childType is null)
            {
                excess.Add(answerPrefix + name);
                continue;
            }
            stack.Add(childType);
            CollectExcess(child, childType, answerPrefix + name + ".", recordPrefix + name + ".", allowed, excess, stack);
            stack.Remove(childType);
        }
    }

    /// <summary>
    /// The kept field paths of <paramref name="node"/> down to scalars, written as mask paths (a map of
    /// messages descends into its values, as a mask does). A message met again on its own path (a
    /// recursive type) or with no fields counts as one leaf.
    /// </summary>
    private static void Leaves(MaskNode node, MessageDescriptor type, string prefix, List<string> into, HashSet<MessageDescriptor> stack)
    {
        foreach (var (name, child, childType) in Children(node, type))
        {
            if (child is null || childType is null || stack.Contains(childType) || child.Fields.Count == 0)
            {
                into.Add(prefix + name);
                continue;
            }
            stack.Add(childType);
            Leaves(child, childType, prefix + name + ".", into, stack);
            stack.Remove(childType);
        }
    }

    /// <summary>The kept fields of one level, each with the node and type a mask path descends into (none for a scalar or a map of scalars).</summary>
    private static IEnumerable<(string Name, MaskNode? Node, MessageDescriptor? Type)> Children(MaskNode node, MessageDescriptor type)
    {
        foreach (var (number, child) in node.Fields.OrderBy(f => f.Key))
        {
            if (type.FindFieldByNumber(number) is not { } field)
            {
                continue;
            }
            if (child is null)
            {
                yield return (field.Name, null, null);
            }
            else if (field.IsMap)
            {
                var value = field.MessageType.FindFieldByNumber(2);
                yield return value.FieldType == FieldType.Message && child.Fields.GetValueOrDefault(2) is { } valueNode
                    ? (field.Name, valueNode, value.MessageType)
                    : (field.Name, null, null);
            }
            else
            {
                yield return (field.Name, child, field.MessageType);
            }
        }
    }
}
