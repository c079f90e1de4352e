using System.Reflection;
using Chain.Risk.V1;
using Google.Protobuf;

namespace Ketenmesh.Risk.Domain;

/// <summary>
/// Every rule-set version this build knows, read from its embedded files (RuleSets/*.json,
/// protobuf JSON of chain.risk.v1.RuleSet) and checked once at start: a broken rule set must stop
/// the service, not score signals wrongly.
/// </summary>
public sealed class RuleSetLibrary
{
    private readonly Dictionary<string, RuleSet> _versions;

    public RuleSetLibrary(IEnumerable<RuleSet> ruleSets)
    {
        _versions = new Dictionary<string, RuleSet>(StringComparer.Ordinal);
        foreach (var ruleSet in ruleSets)
        {
            var problems = RuleSetValidator.Problems(ruleSet);
            if (problems.Count > 0)
            {
                throw new InvalidDataException($"Rule set '{ruleSet.Version}' is invalid: {string.Join("; ", problems)}");
            }
            if (!_versions.TryAdd(ruleSet.Version, ruleSet))
            {
                throw new InvalidDataException($"Rule set version '{ruleSet.Version}' appears twice.");
            }
        }
        var shipped = _versions.Values.Where(r => r.State == RuleSetState.Active).ToList();
        if (shipped.Count != 1)
        {
            throw new InvalidDataException($"Exactly one rule set must ship as ACTIVE; found {shipped.Count}.");
        }
        ShippedActive = shipped[0];
    }

    /// <summary>The rule sets in this build's RuleSets folder.</summary>
    public static RuleSetLibrary Embedded()
    {
        var assembly = typeof(RuleSetLibrary).Assembly;
        var parser = new JsonParser(JsonParser.Settings.Default);
        return new RuleSetLibrary(assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("rulesets/", StringComparison.Ordinal))
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return parser.Parse<RuleSet>(reader);
            }));
    }

    /// <summary>The version marked ACTIVE in its file: what a fresh database starts with.</summary>
    public RuleSet ShippedActive { get; }

    public IReadOnlyCollection<RuleSet> All => _versions.Values;

    public RuleSet? Find(string version) => _versions.GetValueOrDefault(version);
}
