using Ketenmesh.Hosting.Deployment;
using Ketenmesh.Mesh;
using Npgsql;
using YamlDotNet.RepresentationModel;
using static Ketenmesh.Deployment.Tests.Manifests;

namespace Ketenmesh.Deployment.Tests;

/// <summary>
/// Zero trust behind the gateway in Kubernetes: the NetworkPolicies of k8s/ deny by default, let only
/// the gateway reach what is behind it, and let each component reach exactly what its environment in
/// deploy/components.ini sends it to.
/// </summary>
public sealed class NetworkPolicyTests
{
    // Read once: every test asks many questions of the same manifests.
    private static readonly IReadOnlyList<YamlMappingNode> Documents = Kubernetes();

    private static readonly NetworkPolicies Policies = new(Documents.Where(d => Text(d, "kind") == "NetworkPolicy").ToList());

    public static TheoryData<string> Components() => DeploymentManifestTests.Components();

    public static TheoryData<string> PublishedToPartners() => new(DeploymentManifestTests.PublishedToPartners);

    public static TheoryData<string> BehindTheGateway() =>
        new(MeshComponents.All.Select(c => c.Name).Where(n => !DeploymentManifestTests.PublishedToPartners.Contains(n)));

    /// <summary>The services partners call: the components the gateway routes to.</summary>
    public static TheoryData<string> Services() => new(ServiceNames());

    private static IEnumerable<string> ServiceNames() =>
        Environment("gateway").Where(e => e.Key.StartsWith("ReverseProxy__Clusters__", StringComparison.Ordinal) && e.Key.EndsWith("__Address", StringComparison.Ordinal)).Select(e => new Uri(e.Value).Host);

    [Fact]
    public void Every_pod_is_denied_ingress_and_egress_unless_a_policy_allows_it()
    {
        var denyAll = Policies.All.Where(p =>
                NetworkPolicies.Types(p).Contains("Ingress") && NetworkPolicies.Types(p).Contains("Egress")
                && NetworkPolicies.Rules(p, "ingress").Count == 0 && NetworkPolicies.Rules(p, "egress").Count == 0)
            .ToList();

        // An empty selector takes in every pod of the namespace, also those of a component added later.
        Assert.Contains(denyAll, p => p.Map("spec").Map("podSelector").Children.Count == 0);
        foreach (var name in MeshComponents.Deployed.Select(c => c.Name))
        {
            Assert.Contains(denyAll, p => NetworkPolicies.Selects(p.Map("spec").Map("podSelector"), Pod(name).Labels!));
        }

        // The policies guard one namespace: a manifest placed in another would escape them.
        Assert.All(Documents, d => Assert.False(d.Map("metadata").Has("namespace"), $"{Text(d, "kind")} {Text(d.Map("metadata"), "name")} names a namespace"));
    }

    [Theory]
    [MemberData(nameof(BehindTheGateway))]
    public void Only_the_gateway_reaches_the_services(string name)
    {
        var port = new Port(DeploymentTable.Load().Single(c => c.Name == name).Port);
        // The policy service's admin API is also called by the officers' console, with an officer's own token.
        var callers = name == "policy" ? new[] { "gateway", DeploymentManifestTests.BrowsersOnly } : ["gateway"];
        var callerSelectors = callers.Select(c => NetworkPolicies.Canonical(Deployment(c).Map("spec").Map("selector"))).ToList();
        var rules = Policies.Selecting(Pod(name), "Ingress").SelectMany(p => NetworkPolicies.Rules(p, "ingress")).ToList();

        Assert.All(rules, rule =>
        {
            // A rule without sources admits every source, partners included.
            var peers = NetworkPolicies.Peers(rule, "from");
            Assert.NotEmpty(peers);
            Assert.All(peers, peer =>
            {
                Assert.Equal(new[] { "podSelector" }, peer.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
                Assert.Contains(NetworkPolicies.Canonical(peer.Map("podSelector")), callerSelectors);
            });
            var ports = NetworkPolicies.Ports(rule);
            Assert.NotEmpty(ports);
            Assert.All(ports, p => Assert.Equal<(Port, int)?>((port, port.Number), NetworkPolicies.PortOf(p)));
        });
        Assert.All(callers, caller => Assert.True(Policies.AllowsIngress(Pod(caller), Pod(name), port), $"{caller} cannot reach {name} on {port}"));
        Assert.False(Policies.AllowsIngress(Endpoint.Outside, Pod(name), port), $"a partner reaches {name} on {port}");
    }

    [Theory]
    [MemberData(nameof(PublishedToPartners))]
    public void Partners_reach_the_gateway_and_identity_from_anywhere_on_their_ports_only(string name)
    {
        var port = DeploymentTable.Load().Single(c => c.Name == name).Port;
        Assert.True(Policies.AllowsIngress(Endpoint.Outside, Pod(name), new Port(port)), $"partners cannot reach {name} on {port}");
        Assert.True(Policies.AllowsIngress(Pod("signals"), Pod(name), new Port(port)), $"the components cannot reach {name} on {port}");
        Assert.False(Policies.AllowsIngress(Endpoint.Outside, Pod(name), new Port(port + 1)), $"{name} is open beyond its port");
        Assert.False(Policies.AllowsIngress(Endpoint.Outside, Pod(name), new Port(port, "UDP")), $"{name} is open to UDP");
    }

    [Fact]
    public void Officers_browsers_reach_the_console_on_its_port_only_and_it_reaches_identity_policy_and_the_gateway_only()
    {
        var console = DeploymentManifestTests.BrowsersOnly;
        var port = DeploymentTable.Load().Single(c => c.Name == console).Port;
        Assert.True(Policies.AllowsIngress(Endpoint.Outside, Pod(console), new Port(port)));
        Assert.False(Policies.AllowsIngress(Endpoint.Outside, Pod(console), new Port(port + 1)));
        foreach (var name in DeploymentTable.Load().Select(c => c.Name).Where(n => n != console))
        {
            var reaches = Policies.AllowsEgress(Pod(console), Pod(name), new Port(DeploymentTable.Load().Single(c => c.Name == name).Port));
            Assert.True(reaches == name is "identity" or "policy" or "gateway", $"the console {(reaches ? "reaches" : "does not reach")} {name}");
        }
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void A_component_reaches_its_database_and_the_broker_where_the_table_uses_them(string name)
    {
        var deployed = DeploymentTable.Load().Single(c => c.Name == name);
        var environment = Environment(name);
        var connection = new NpgsqlConnectionStringBuilder(DeploymentManifestTests.Kubernetes_target().Postgres);
        var database = (Host: connection.Host!, Port: new Port(connection.Port));
        var broker = (Host: DeploymentManifestTests.Kubernetes_target().RabbitMqHost, Port: new Port(int.Parse(DeploymentManifestTests.Kubernetes_target().RabbitMqPort)));

        // A component without a database or off the bus has no business reaching either.
        var usesDatabase = deployed.Environment.Any(e => e.Key == "Database__ConnectionString");
        var usesBroker = environment.GetValueOrDefault("Messaging__Transport") == "RabbitMq";
        Assert.Equal(usesDatabase, Policies.AllowsEgress(Pod(name), Endpoint.InOurNamespace(LabelsOf(database.Host)), database.Port));
        Assert.Equal(usesBroker, Policies.AllowsEgress(Pod(name), Endpoint.InOurNamespace(LabelsOf(broker.Host)), broker.Port));
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void A_component_reaches_every_address_its_environment_gives_it(string name)
    {
        var addresses = Destinations(name).Where(d => d.Why.StartsWith("http", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(addresses);
        Assert.All(addresses, d => Assert.True(
            Policies.AllowsEgress(Pod(name), Endpoint.InOurNamespace(LabelsOf(d.Host)), d.Port), $"{name} cannot reach {d.Why}"));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void The_services_reach_the_identity_and_gateway_keys(string name)
    {
        // The gateway's JWKS verifies the token of every forwarded call; identity's is the partners' issuer.
        foreach (var keys in new[] { "gateway", "identity" })
        {
            var port = new Port(DeploymentTable.Load().Single(c => c.Name == keys).Port);
            Assert.True(Policies.AllowsEgress(Pod(name), Pod(keys), port), $"{name} cannot reach {keys} on {port}");
            Assert.True(Policies.AllowsIngress(Pod(name), Pod(keys), port), $"{keys} does not let {name} in on {port}");
        }
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void Every_pod_resolves_names_through_kube_dns(string name)
    {
        Assert.True(Policies.AllowsEgress(Pod(name), Endpoint.KubeDns, new Port(53, "UDP")));
        Assert.True(Policies.AllowsEgress(Pod(name), Endpoint.KubeDns, new Port(53, "TCP")));
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void Every_call_a_component_makes_is_let_in_where_it_arrives(string name)
    {
        Assert.All(Destinations(name), d => Assert.True(
            Policies.AllowsIngress(Pod(name), Endpoint.InOurNamespace(LabelsOf(d.Host)), d.Port), $"{d.Host} does not let {name} in on {d.Port} ({d.Why})"));
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void A_component_reaches_nothing_it_is_not_sent_to(string name)
    {
        var allowed = Destinations(name).Select(d => (d.Host, d.Port)).ToHashSet();
        var rules = Policies.Selecting(Pod(name), "Egress").SelectMany(p => NetworkPolicies.Rules(p, "egress")).ToList();
        Assert.NotEmpty(rules);
        Assert.All(rules, rule =>
        {
            // A rule without destinations or ports is open to every one of them.
            var peers = NetworkPolicies.Peers(rule, "to");
            var ports = NetworkPolicies.Ports(rule).Select(p => NetworkPolicies.PortOf(p) ?? throw new Xunit.Sdk.XunitException("a named port")).ToList();
            Assert.NotEmpty(peers);
            Assert.NotEmpty(ports);
            foreach (var peer in peers)
            {
                foreach (var (port, endPort) in ports)
                {
                    Assert.Equal(port.Number, endPort);
                    if (IsKubeDns(peer))
                    {
                        Assert.Equal(53, port.Number);
                        continue;
                    }

                    // One destination per peer: a pod selector naming one Service's pods, in this namespace.
                    Assert.Equal(new[] { "podSelector" }, peer.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
                    var selector = peer.Map("podSelector");
                    Assert.False(selector.Has("matchExpressions"));
                    var label = Assert.Single(Scalars(selector.Map("matchLabels")));
                    Assert.Equal("app.kubernetes.io/name", label.Key);
                    var host = label.Value;
                    Assert.True(allowed.Contains((host, port)), $"{name} may reach {host} on {port}, which its environment does not send it to");
                }
            }
        });
    }

    /// <summary>
    /// Where a component calls, from its Kubernetes environment: its database and the broker when the
    /// table gives it them, every address it is given (not its own: that is a name, not a call), and,
    /// for the services, identity, whose JWKS they read too (issue 10, section 3).
    /// </summary>
    private static IReadOnlyList<(string Host, Port Port, string Why)> Destinations(string name)
    {
        var environment = Environment(name);
        var destinations = new List<(string Host, Port Port, string Why)>();
        if (environment.TryGetValue("Database__ConnectionString", out var connectionString))
        {
            var connection = new NpgsqlConnectionStringBuilder(connectionString);
            destinations.Add((connection.Host!, new Port(connection.Port), "Database__ConnectionString"));
        }

        if (environment.GetValueOrDefault("Messaging__Transport") == "RabbitMq")
        {
            destinations.Add((environment["Messaging__RabbitMq__Host"], new Port(int.Parse(environment["Messaging__RabbitMq__Port"])), "Messaging__RabbitMq__Host"));
        }

        var browsers = BrowserSettings(name);
        foreach (var (key, value) in environment.Where(e => !browsers.Contains(e.Key)))
        {
            if (Uri.TryCreate(value, UriKind.Absolute, out var address) && address.Scheme is "http" or "https" && address.Host != name)
            {
                destinations.Add((address.Host, new Port(address.Port), $"{value} ({key})"));
            }
        }

        if (ServiceNames().Contains(name))
        {
            destinations.Add(("identity", new Port(DeploymentTable.Load().Single(c => c.Name == "identity").Port), "identity's JWKS"));
        }

        return destinations;
    }

    /// <summary>The component's environment as Kubernetes gives it (the table filled in for the cluster).</summary>
    private static Dictionary<string, string> Environment(string name)
    {
        var table = DeploymentTable.Load();
        return DeploymentManifestTests.Kubernetes_target().Render(table.Single(c => c.Name == name), table).ToDictionary(e => e.Key, e => e.Value);
    }

    private static YamlMappingNode Deployment(string name) =>
        Find(Documents, "Deployment", name) ?? throw new Xunit.Sdk.XunitException($"no Deployment {name}");

    /// <summary>A component's pod as its Deployment labels it.</summary>
    private static Endpoint Pod(string name) =>
        Endpoint.InOurNamespace(Scalars(Deployment(name).Map("spec").Map("template").Map("metadata").Map("labels")));

    /// <summary>
    /// The pods behind a host name: a Service of k8s/ selects them, as its Deployment labels them; a
    /// host k8s/ does not run (postgres, rabbitmq, otel-collector) is a Service of that name whose
    /// pods carry <c>app.kubernetes.io/name</c> = the name (k8s/README.md).
    /// </summary>
    private static IReadOnlyDictionary<string, string> LabelsOf(string host) =>
        Find(Documents, "Service", host) is { } service
            ? Documents.Where(d => Text(d, "kind") == "Deployment")
                .Select(d => Scalars(d.Map("spec").Map("template").Map("metadata").Map("labels")))
                .Single(labels => Scalars(service.Map("spec").Map("selector")).All(l => labels.GetValueOrDefault(l.Key) == l.Value))
            : new Dictionary<string, string> { ["app.kubernetes.io/name"] = host };

    private static bool IsKubeDns(YamlMappingNode peer) =>
        peer.Has("namespaceSelector") && peer.Has("podSelector") && !peer.Has("ipBlock")
        && NetworkPolicies.Canonical(peer.Map("namespaceSelector")) == "kubernetes.io/metadata.name=kube-system"
        && NetworkPolicies.Canonical(peer.Map("podSelector")) == "k8s-app=kube-dns";
}
