using Google.Protobuf.Reflection;

namespace Ketenmesh.OfficerConsole.Grants;

/// <summary>
/// The comments of the chain's protos, by the full name of what they describe (<c>chain.registry.v1.Registration.status</c>),
/// read from the descriptor set with source info that protoc writes at build time (Ketenmesh.Console.csproj).
/// The generated C# descriptors hold no comments; this is where an officer's field descriptions come from.
/// </summary>
public sealed class ProtoComments(IReadOnlyDictionary<string, string> comments)
{
    // Field numbers in descriptor.proto: FileDescriptorProto.message_type = 4, DescriptorProto.field = 2,
    // DescriptorProto.nested_type = 3, FileDescriptorProto.service = 6, ServiceDescriptorProto.method = 2.
    const int FileMessages = 4, MessageFields = 2, MessageNested = 3, FileServices = 6, ServiceMethods = 2;

    public static ProtoComments Load()
    {
        using var stream = typeof(ProtoComments).Assembly.GetManifestResourceStream("chain-with-comments.protoset")
            ?? throw new InvalidOperationException("The console was built without its descriptor set (chain-with-comments.protoset).");
        var set = FileDescriptorSet.Parser.ParseFrom(stream);
        var comments = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in set.File)
        {
            var byPath = (file.SourceCodeInfo?.Location ?? []).Where(l => l.HasLeadingComments || l.HasTrailingComments)
                .GroupBy(l => string.Join('.', l.Path)).ToDictionary(g => g.Key, g => g.First());
            var prefix = string.IsNullOrEmpty(file.Package) ? "" : file.Package + ".";
            for (var m = 0; m < file.MessageType.Count; m++)
            {
                Message(file.MessageType[m], prefix, $"{FileMessages}.{m}");
            }

            for (var s = 0; s < file.Service.Count; s++)
            {
                var service = file.Service[s];
                Add(prefix + service.Name, $"{FileServices}.{s}");
                for (var r = 0; r < service.Method.Count; r++)
                {
                    Add($"{prefix}{service.Name}/{service.Method[r].Name}", $"{FileServices}.{s}.{ServiceMethods}.{r}");
                }
            }

            void Message(DescriptorProto message, string scope, string path)
            {
                var name = scope + message.Name;
                Add(name, path);
                for (var f = 0; f < message.Field.Count; f++)
                {
                    Add($"{name}.{message.Field[f].Name}", $"{path}.{MessageFields}.{f}");
                }

                for (var n = 0; n < message.NestedType.Count; n++)
                {
                    Message(message.NestedType[n], name + ".", $"{path}.{MessageNested}.{n}");
                }
            }

            void Add(string fullName, string path)
            {
                if (byPath.TryGetValue(path, out var location))
                {
                    comments[fullName] = Clean(location.HasLeadingComments ? location.LeadingComments : location.TrailingComments);
                }
            }
        }

        return new ProtoComments(comments);
    }

    /// <summary>The comment of a field, message, service or method (<c>package.Service/Method</c>); empty when it has none.</summary>
    public string Of(string fullName) => comments.GetValueOrDefault(fullName, "");

    public string Of(FieldDescriptor field) => Of($"{field.ContainingType.FullName}.{field.Name}");

    public int Count => comments.Count;

    /// <summary>No comments: where only the tree's paths matter.</summary>
    public static ProtoComments Empty { get; } = new(new Dictionary<string, string>());

    static string Clean(string comment) => string.Join(' ', comment.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
