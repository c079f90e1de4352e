using YamlDotNet.RepresentationModel;
using static Ketenmesh.Deployment.Tests.Manifests;

namespace Ketenmesh.Deployment.Tests;

/// <summary>
/// One end of a connection: a pod by its labels and its namespace's labels, or a client outside the
/// cluster (a partner). The manifests set no namespace; the one they are applied to is the
/// installer's, so its labels name nothing a selector could ask for except through <c>{}</c>.
/// </summary>
public sealed record Endpoint(IReadOnlyDictionary<string, string>? Labels, IReadOnlyDictionary<string, string> NamespaceLabels)
{
    public static readonly IReadOnlyDictionary<string, string> OurNamespace =
        new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "(the namespace k8s/ is applied to)" };

    public static Endpoint Outside { get; } = new(null, new Dictionary<string, string>());

    /// <summary>The cluster DNS as kubeadm, kind, GKE, EKS and AKS label it.</summary>
    public static Endpoint KubeDns { get; } = new(
        new Dictionary<string, string> { ["k8s-app"] = "kube-dns" },
        new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "kube-system" });

    public static Endpoint InOurNamespace(IReadOnlyDictionary<string, string> labels) => new(labels, OurNamespace);

    public bool IsOutside => Labels is null;

    public bool IsInOurNamespace => !IsOutside && NamespaceLabels.GetValueOrDefault(NameLabel) == OurNamespace[NameLabel];

    private const string NameLabel = "kubernetes.io/metadata.name";
}

/// <summary>A TCP or UDP port as a NetworkPolicy rule names it.</summary>
public sealed record Port(int Number, string Protocol = "TCP")
{
    public override string ToString() => $"{Protocol}/{Number}";
}

/// <summary>
/// The NetworkPolicies (networking.k8s.io/v1) of k8s/, evaluated as Kubernetes does within one
/// namespace: a pod selected by no policy of a direction is open in that direction; once selected,
/// it allows only what some rule of some selecting policy allows. Replies are not rules (policies are
/// stateful), so a connection needs the caller's egress and the callee's ingress.
/// </summary>
public sealed class NetworkPolicies(IReadOnlyList<YamlMappingNode> policies)
{
    public IReadOnlyList<YamlMappingNode> All => policies;

    /// <summary>The policies that select <paramref name="pod"/> for <paramref name="direction"/> (Ingress or Egress).</summary>
    public IEnumerable<YamlMappingNode> Selecting(Endpoint pod, string direction) =>
        policies.Where(p => Types(p).Contains(direction) && Selects(p.Map("spec").Map("podSelector"), pod.Labels!));

    public bool AllowsEgress(Endpoint from, Endpoint to, Port port)
    {
        var selecting = Selecting(from, "Egress").ToList();
        return selecting.Count == 0 || selecting.SelectMany(p => Rules(p, "egress")).Any(r => Admits(r, "to", to, port));
    }

    public bool AllowsIngress(Endpoint from, Endpoint to, Port port)
    {
        var selecting = Selecting(to, "Ingress").ToList();
        return selecting.Count == 0 || selecting.SelectMany(p => Rules(p, "ingress")).Any(r => Admits(r, "from", from, port));
    }

    /// <summary>Ingress or Egress; without <c>policyTypes</c> Kubernetes takes Ingress, and Egress when the policy has egress rules.</summary>
    public static IReadOnlyList<string> Types(YamlMappingNode policy)
    {
        var spec = policy.Map("spec");
        if (spec.Has("policyTypes"))
        {
            return spec.Seq("policyTypes").Select(t => ((YamlScalarNode)t).Value!).ToList();
        }

        return spec.Has("egress") ? ["Ingress", "Egress"] : ["Ingress"];
    }

    /// <summary>The rules of <paramref name="section"/> (ingress or egress); an absent or empty list is no rule at all.</summary>
    public static IReadOnlyList<YamlMappingNode> Rules(YamlMappingNode policy, string section) =>
        policy.Map("spec").Children.TryGetValue(new YamlScalarNode(section), out var rules) && rules is YamlSequenceNode list
            ? list.Cast<YamlMappingNode>().ToList()
            : [];

    /// <summary>A rule's peers (<paramref name="key"/> is from or to); empty when it names none, which Kubernetes reads as any peer.</summary>
    public static IReadOnlyList<YamlMappingNode> Peers(YamlMappingNode rule, string key) =>
        rule.Children.TryGetValue(new YamlScalarNode(key), out var peers) && peers is YamlSequenceNode list
            ? list.Cast<YamlMappingNode>().ToList()
            : [];

    /// <summary>A rule's ports; empty when it names none, which Kubernetes reads as every port.</summary>
    public static IReadOnlyList<YamlMappingNode> Ports(YamlMappingNode rule) =>
        rule.Children.TryGetValue(new YamlScalarNode("ports"), out var ports) && ports is YamlSequenceNode list
            ? list.Cast<YamlMappingNode>().ToList()
            : [];

    /// <summary>A label selector (matchLabels and matchExpressions); <c>{}</c> selects everything.</summary>
    public static bool Selects(YamlMappingNode selector, IReadOnlyDictionary<string, string> labels)
    {
        var matchLabels = selector.Has("matchLabels") ? Scalars(selector.Map("matchLabels")) : [];
        if (matchLabels.Any(l => !labels.TryGetValue(l.Key, out var value) || value != l.Value))
        {
            return false;
        }

        var expressions = selector.Has("matchExpressions") ? selector.Seq("matchExpressions").Cast<YamlMappingNode>() : [];
        return expressions.All(e =>
        {
            var key = Text(e, "key")!;
            var values = e.Has("values") ? e.Seq("values").Select(v => ((YamlScalarNode)v).Value!).ToList() : [];
            var has = labels.TryGetValue(key, out var value);
            return Text(e, "operator") switch
            {
                "In" => has && values.Contains(value!),
                "NotIn" => !has || !values.Contains(value!),
                "Exists" => has,
                "DoesNotExist" => !has,
                var other => throw new NotSupportedException($"selector operator {other}"),
            };
        });
    }

    /// <summary>A selector in one canonical line, to compare two selectors as written.</summary>
    public static string Canonical(YamlMappingNode selector)
    {
        var labels = selector.Has("matchLabels") ? Scalars(selector.Map("matchLabels")) : [];
        var expressions = selector.Has("matchExpressions")
            ? selector.Seq("matchExpressions").Cast<YamlMappingNode>()
                .Select(e => $"{Text(e, "key")} {Text(e, "operator")} [{string.Join(",", e.Has("values") ? e.Seq("values").Select(v => ((YamlScalarNode)v).Value).Order() : [])}]")
            : [];
        return string.Join("; ", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}").Concat(expressions.Order()));
    }

    /// <summary>The port a rule's port entry names; null for a named port (the manifests use numbers, so a name matches nothing here).</summary>
    public static (Port Port, int EndPort)? PortOf(YamlMappingNode entry) =>
        int.TryParse(Text(entry, "port"), out var number)
            ? (new Port(number, Text(entry, "protocol") ?? "TCP"), int.TryParse(Text(entry, "endPort"), out var end) ? end : number)
            : null;

    private static bool Admits(YamlMappingNode rule, string key, Endpoint peer, Port port)
    {
        var peers = Peers(rule, key);
        var ports = Ports(rule);
        return (peers.Count == 0 || peers.Any(p => Matches(p, peer)))
            && (ports.Count == 0 || ports.Any(p => PortOf(p) is { } named
                && named.Port.Protocol == port.Protocol && named.Port.Number <= port.Number && port.Number <= named.EndPort));
    }

    private static bool Matches(YamlMappingNode peer, Endpoint endpoint)
    {
        if (peer.Has("ipBlock"))
        {
            // Whether an ipBlock covers pod addresses is up to the network plugin; here it covers only
            // clients outside the cluster, and only a block of every address stands for "any of them".
            var block = peer.Map("ipBlock");
            return endpoint.IsOutside && Text(block, "cidr") is "0.0.0.0/0" or "::/0" && !block.Has("except");
        }

        if (endpoint.IsOutside)
        {
            return false;
        }

        var inNamespace = peer.Has("namespaceSelector")
            ? Selects(peer.Map("namespaceSelector"), endpoint.NamespaceLabels)
            : endpoint.IsInOurNamespace;
        return inNamespace && (!peer.Has("podSelector") || Selects(peer.Map("podSelector"), endpoint.Labels!));
    }
}
