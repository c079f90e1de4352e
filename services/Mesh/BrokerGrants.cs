using Ketenmesh.Hosting.Deployment;
using Ketenmesh.Messaging.Topology;
using Microsoft.Extensions.Configuration;

namespace Ketenmesh.Mesh;

/// <summary>
/// The RabbitMQ permissions of every component with a bus, read from what each registers (its
/// published events and consumers; see <see cref="BrokerGrant"/>). <c>deploy/rabbitmq-permissions.tsv</c>
/// is this, written out for deploy/rabbitmq-users.sh, which needs no .NET where it runs; the deployment
/// tests fail when the two differ.
/// </summary>
public static class BrokerGrants
{
    public const string FileName = "rabbitmq-permissions.tsv";

    public static IReadOnlyList<BrokerGrant> All() =>
        MeshComponents.All.Select(component =>
        {
            var services = new ServiceCollection();
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                // Registration only reads it; nothing is built or started.
                ["Mesh:DataDirectory"] = Path.Combine(Path.GetTempPath(), "ketenmesh-broker-grants"),
            }).Build();
            component.AddServices(services, configuration);
            return BrokerGrant.Of(services, component.Name);
        }).OfType<BrokerGrant>().ToList();

    /// <summary>The table as deploy/rabbitmq-users.sh reads it: comment lines, then one tab-separated line per component.</summary>
    public static string Table(IEnumerable<BrokerGrant> grants)
    {
        var lines = new List<string>
        {
            "# Generated from what each component registers (its published events and consumer queues); do not edit.",
            "# Regenerate: dotnet services/Mesh/bin/Release/net10.0/Ketenmesh.Mesh.dll deployment rabbitmq-permissions > deploy/" + FileName,
            "# deploy/rabbitmq-users.sh gives user " + DeploymentTarget.BrokerUser("<component>") + " these rabbitmqctl set_permissions regexes.",
            "# component\tconfigure\twrite\tread",
        };
        lines.AddRange(grants.Select(g => $"{g.Component}\t{g.Configure}\t{g.Write}\t{g.Read}"));
        return string.Join('\n', lines) + "\n";
    }
}
