using System.Text.RegularExpressions;
using Ketenmesh.Hosting.Deployment;
using Ketenmesh.Mesh;
using Ketenmesh.Messaging.Topology;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using YamlDotNet.RepresentationModel;
using static Ketenmesh.Deployment.Tests.Manifests;

namespace Ketenmesh.Deployment.Tests;

/// <summary>
/// One RabbitMQ user per messaging component (issue 10, point 3): the permission table matches what the
/// components register, every component connects as its own user and no other, its grant covers its own
/// entities and no other component's, and one script makes the users wherever the mesh runs.
/// </summary>
public sealed partial class BrokerUserTests
{
    /// <summary>The variable compose (and deploy/rabbitmq-users.sh) take a component's broker password from.</summary>
    public static string PasswordVariable(string component) => $"KETENMESH_RABBITMQ_{component.ToUpperInvariant().Replace('-', '_')}_PASSWORD";

    private static readonly string PermissionTable = Path.Combine(RepoRoot, "deploy", BrokerGrants.FileName);

    [Fact]
    public void The_permission_table_is_what_the_components_register()
    {
        Assert.Equal(BrokerGrants.Table(BrokerGrants.All()), File.ReadAllText(PermissionTable));
    }

    [Theory]
    [MemberData(nameof(DeploymentManifestTests.Components), MemberType = typeof(DeploymentManifestTests))]
    public void A_component_with_a_bus_connects_as_its_own_broker_user_and_one_without_has_none(string name)
    {
        var deployed = DeploymentTable.Load().Single(c => c.Name == name);
        var arguments = deployed.Environment
            .SelectMany(e => BrokerPlaceholder().Matches(e.Value))
            .Select(m => (Placeholder: m.Groups["name"].Value, Component: m.Groups["argument"].Value))
            .ToList();
        var hasBus = Needs.Of(MeshComponents.Deployed.Single(c => c.Name == name)).Bus;

        Assert.Equal(hasBus, BrokerGrants.All().Any(g => g.Component == name));
        Assert.Equal(hasBus, File.ReadLines(PermissionTable).Any(l => l.Split('\t')[0] == name));
        if (hasBus)
        {
            Assert.Equal(["RABBITMQ_PASSWORD", "RABBITMQ_USER"], arguments.Select(a => a.Placeholder).Order());
            Assert.All(arguments, a => Assert.Equal(name, a.Component));
        }
        else
        {
            Assert.Empty(arguments);
        }
    }

    [Fact]
    public void A_placeholder_for_a_broker_user_must_name_its_component()
    {
        var target = DeploymentManifestTests.Compose_target();
        var table = DeploymentTable.Load();
        Assert.Equal("ketenmesh-risk", target.Fill("${RABBITMQ_USER:risk}", table));
        Assert.Throws<FormatException>(() => target.Fill("${RABBITMQ_USER}", table));
        Assert.Throws<FormatException>(() => target.Fill("${RABBITMQ_PASSWORD}", table));
    }

    [Fact]
    public void A_components_grant_covers_its_own_entities_and_no_other_components()
    {
        var registrations = MeshComponents.All.Select(Registration).Where(r => r.Grant is not null).ToList();
        Assert.Equal(["registry", "returns", "risk", "shelter", "signals"], registrations.Select(r => r.Name).Order());
        var events = registrations.SelectMany(r => r.Published).ToHashSet();

        foreach (var (name, grant, published, queues, consumed) in registrations)
        {
            // Its own endpoints, their error and skipped queues, and the unrouted-events safety net: all three rights.
            foreach (var entity in queues.SelectMany(q => BrokerGrant.EndpointSuffixes.Prepend("").Select(s => q + s)).Append(Ketenmesh.Messaging.Recovery.EventTopology.UnroutedEvents))
            {
                Assert.True(BrokerGrant.Allows(grant!.Configure, entity) && BrokerGrant.Allows(grant.Write, entity) && BrokerGrant.Allows(grant.Read, entity), $"{name} may not use its own {entity}");
            }

            // Write on an event's exchange only for the events it publishes: no component can forge another's.
            foreach (var @event in events)
            {
                Assert.True(BrokerGrant.Allows(grant!.Write, @event) == published.Contains(@event), $"{name}'s write on {@event}");
                Assert.True(BrokerGrant.Allows(grant.Read, @event) == (published.Contains(@event) || consumed.Contains(@event)), $"{name}'s read on {@event}");
            }

            // Nothing of another component's endpoints, nor anything made up.
            foreach (var other in registrations.Where(r => r.Name != name).SelectMany(r => r.Queues).SelectMany(q => BrokerGrant.EndpointSuffixes.Prepend("").Select(s => q + s)))
            {
                Assert.False(BrokerGrant.Allows(grant!.Configure, other) || BrokerGrant.Allows(grant.Write, other) || BrokerGrant.Allows(grant.Read, other), $"{name} may use {other}");
            }

            foreach (var madeUp in new[] { "", "amq.default", $"{name}.anything", $"x{queues.First()}", $"{queues.First()}x", "chain.events.v1.Anything" })
            {
                Assert.False(BrokerGrant.Allows(grant!.Configure, madeUp) || BrokerGrant.Allows(grant.Write, madeUp) || BrokerGrant.Allows(grant.Read, madeUp), $"{name} may use '{madeUp}'");
            }
        }
    }

    [Fact]
    public void One_script_makes_the_broker_users_for_the_mesh_script_compose_kubernetes_and_the_tests()
    {
        var script = File.ReadAllText(Path.Combine(RepoRoot, "deploy", "rabbitmq-users.sh"));
        Assert.Contains(BrokerGrants.FileName, script);
        Assert.Contains("KETENMESH_RABBITMQ_$(echo \"$component\" | tr 'a-z-' 'A-Z_')_PASSWORD", script);
        // The user name the script gives is the one components.ini's ${RABBITMQ_USER:name} fills in.
        Assert.Contains($"user=\"{DeploymentTarget.BrokerUser("$component")}\"", script);
        // No tags: a component's user is no administrator, whatever it was before.
        Assert.Matches(@"set_user_tags ""\$user"" <", script);

        var mesh = File.ReadAllText(Path.Combine(RepoRoot, "mesh"));
        Assert.Contains("deploy/rabbitmq-users.sh --passwords", mesh);
        Assert.Contains("--rabbitmq-passwords", mesh);
        Assert.Contains("rabbitmq-users.sh", File.ReadAllText(Path.Combine(RepoRoot, "tests", "Ketenmesh.Testing", "Ketenmesh.Testing.csproj")));
        Assert.Contains("deploy/rabbitmq-users.sh", File.ReadAllText(Path.Combine(RepoRoot, "k8s", "README.md")));

        var services = Compose().Map("services");
        var users = services.Map("rabbitmq-users");
        Assert.Equal(Text(services.Map("rabbitmq"), "image"), Text(users, "image"));
        Assert.Contains("/deploy/rabbitmq-users.sh", users.Seq("entrypoint").Select(e => ((YamlScalarNode)e).Value));
        Assert.Contains("./deploy:/deploy:ro", users.Seq("volumes").Select(v => ((YamlScalarNode)v).Value));
        Assert.Equal("service_healthy", Text(users.Map("depends_on").Map("rabbitmq"), "condition"));
        var withBus = BrokerGrants.All().Select(g => g.Component).ToList();
        var passwords = Scalars(users.Map("environment")).Where(e => e.Key.EndsWith("_PASSWORD", StringComparison.Ordinal)).ToDictionary();
        Assert.Equal(withBus.Select(PasswordVariable).Order(), passwords.Keys.Order());
        Assert.All(passwords, p => Assert.StartsWith($"${{{p.Key}:?", p.Value));
        foreach (var component in withBus)
        {
            Assert.Equal("service_completed_successfully", Text(services.Map(component).Map("depends_on").Map("rabbitmq-users"), "condition"));
        }
    }

    private static (string Name, BrokerGrant? Grant, HashSet<string> Published, List<string> Queues, HashSet<string> Consumed) Registration(Ketenmesh.Hosting.IMeshComponent component)
    {
        var services = new ServiceCollection();
        component.AddServices(services, new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = Path.Combine(Path.GetTempPath(), "ketenmesh-needs"),
        }).Build());
        var grant = BrokerGrant.Of(services, component.Name);
        var publications = services.Select(d => d.ImplementationInstance).OfType<Publications>().SingleOrDefault();
        var queues = services.Select(d => d.ImplementationInstance).OfType<ConsumerQueues>().SingleOrDefault();
        var events = services.Select(d => d.ImplementationInstance).OfType<Ketenmesh.Messaging.Protobuf.EventRegistry>().SingleOrDefault();
        var own = queues?.Claims.Where(c => c.Value.Component == component.Name).ToList() ?? [];
        var consumed = own.SelectMany(c => c.Value.Consumer.GetInterfaces())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(MassTransit.IConsumer<>))
            .Select(i => events!.TryGet(i.GetGenericArguments()[0], out var d) ? d.FullName : throw new InvalidOperationException())
            .ToHashSet();
        return (component.Name, grant, publications?.Of(component.Name).ToHashSet() ?? [], own.Select(c => c.Key).ToList(), consumed);
    }

    [GeneratedRegex(@"\$\{(?<name>RABBITMQ_USER|RABBITMQ_PASSWORD)(:(?<argument>[a-z][a-z0-9-]*))?\}")]
    private static partial Regex BrokerPlaceholder();
}
