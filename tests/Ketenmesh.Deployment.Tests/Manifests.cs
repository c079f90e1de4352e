using YamlDotNet.RepresentationModel;

namespace Ketenmesh.Deployment.Tests;

/// <summary>Reads the deployment files as plain YAML trees, the way docker compose and kubectl would.</summary>
public static class Manifests
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static YamlMappingNode Compose() => (YamlMappingNode)Load(Path.Combine(RepoRoot, "docker-compose.yml")).Single().RootNode;

    /// <summary>Every document of every manifest under k8s/.</summary>
    public static IReadOnlyList<YamlMappingNode> Kubernetes() =>
        Directory.GetFiles(Path.Combine(RepoRoot, "k8s"), "*.yaml")
            .SelectMany(Load)
            .Select(d => (YamlMappingNode)d.RootNode)
            .ToList();

    public static YamlMappingNode? Find(IEnumerable<YamlMappingNode> documents, string kind, string name) =>
        documents.FirstOrDefault(d => Text(d, "kind") == kind && Text(d.Map("metadata"), "name") == name);

    public static YamlMappingNode Map(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlMappingNode map
            ? map
            : throw new KeyNotFoundException($"'{key}' is missing or not a mapping");

    public static YamlSequenceNode Seq(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlSequenceNode seq
            ? seq
            : throw new KeyNotFoundException($"'{key}' is missing or not a list");

    public static string? Text(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? (child as YamlScalarNode)?.Value : null;

    /// <summary>
    /// The settings of <paramref name="component"/> that say where people's browsers reach a component
    /// (<c>${BROWSER_ADDRESS:...}</c>, such as the console's sign-in redirect): an address the component hands
    /// out, never one it calls.
    /// </summary>
    public static IReadOnlySet<string> BrowserSettings(string component) =>
        Ketenmesh.Hosting.Deployment.DeploymentTable.Load().Single(c => c.Name == component).Environment
            .Where(e => Ketenmesh.Hosting.Deployment.DeploymentTarget.PlaceholdersOf(e.Value).Contains("BROWSER_ADDRESS"))
            .Select(e => e.Key).ToHashSet(StringComparer.Ordinal);

    public static bool Has(this YamlMappingNode node, string key) => node.Children.ContainsKey(new YamlScalarNode(key));

    /// <summary>A mapping of scalars as a dictionary (environment blocks, ConfigMap data).</summary>
    public static Dictionary<string, string> Scalars(YamlMappingNode node) =>
        node.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value ?? "");

    private static IEnumerable<YamlDocument> Load(string path)
    {
        var stream = new YamlStream();
        using var reader = File.OpenText(path);
        stream.Load(reader);
        return stream.Documents;
    }

    private static string FindRepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Ketenmesh.slnx")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Ketenmesh.slnx).");
    }
}
