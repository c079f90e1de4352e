using System.Text.RegularExpressions;

namespace Ketenmesh.Hosting.Deployment;

/// <summary>One component of the real profile as <c>deploy/components.ini</c> describes it.</summary>
/// <param name="Environment">Variable name to template, in file order; see <see cref="DeploymentTarget"/> for the placeholders.</param>
public sealed record DeployedComponent(string Name, string Project, IReadOnlyList<KeyValuePair<string, string>> Environment)
{
    /// <summary>The h2c port the table gives the component (<c>Service__Port</c>).</summary>
    public int Port => int.Parse(Environment.Single(e => e.Key == "Service__Port").Value, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// <c>deploy/components.ini</c>: the one source of the environment each component runs with in the
/// real profile, read by <c>./mesh up --real</c> (through <c>Ketenmesh.Mesh deployment</c>), by the
/// real-profile tests, and compared with docker-compose.yml and k8s/ by the deployment tests.
/// </summary>
public static partial class DeploymentTable
{
    public const string FileName = "components.ini";

    /// <summary>The table copied next to every component (build output), or the one at <paramref name="path"/>.</summary>
    public static IReadOnlyList<DeployedComponent> Load(string? path = null) =>
        Parse(File.ReadAllLines(path ?? Path.Combine(AppContext.BaseDirectory, FileName)));

    public static IReadOnlyList<DeployedComponent> Parse(IEnumerable<string> lines)
    {
        var components = new List<DeployedComponent>();
        string? name = null, project = null;
        var environment = new List<KeyValuePair<string, string>>();
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (Section().Match(line) is { Success: true } section)
            {
                Flush();
                name = section.Groups["name"].Value;
                project = section.Groups["project"].Value;
                continue;
            }

            var separator = line.IndexOf('=', StringComparison.Ordinal);
            if (name is null || separator <= 0)
            {
                throw new FormatException($"deploy/{FileName} line {number}: expected [name project] or NAME=value, got '{line}'.");
            }

            var key = line[..separator];
            if (environment.Any(e => e.Key == key))
            {
                throw new FormatException($"deploy/{FileName} line {number}: {key} is set twice for {name}.");
            }

            environment.Add(new(key, line[(separator + 1)..]));
        }

        Flush();
        var duplicate = components.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? components : throw new FormatException($"deploy/{FileName}: component {duplicate.Key} is described twice.");

        void Flush()
        {
            if (name is not null)
            {
                components.Add(new DeployedComponent(name, project!, environment));
            }

            environment = [];
        }
    }

    [GeneratedRegex(@"^\[(?<name>[a-z][a-z0-9-]*)\s+(?<project>\S+\.csproj)\]$")]
    private static partial Regex Section();
}
