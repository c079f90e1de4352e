using Ketenmesh.Hosting.Deployment;

namespace Ketenmesh.Deployment.Tests;

/// <summary>The hop behind the gateway, as the table gives it: TLS with client certificates on loopback, the cluster's own elsewhere.</summary>
public sealed class MeshTlsTests
{
    private static readonly string[] BehindTheGateway = ["signals", "risk", "registry", "shelter", "returns"];

    [Fact]
    public void On_loopback_every_service_behind_the_gateway_listens_for_it_over_tls_and_the_gateway_reaches_each_over_https()
    {
        var table = DeploymentTable.Load();
        var target = DeploymentTarget.Loopback("Host=127.0.0.1", _ => "secret", "/tmp/data");

        foreach (var name in BehindTheGateway)
        {
            var service = target.Render(table.Single(c => c.Name == name), table).ToDictionary(e => e.Key, e => e.Value);
            Assert.Equal("true", service["Service__MutualTls"]);
            Assert.Equal("/tmp/data", service["Mesh__DataDirectory"]);
        }
        var gateway = target.Render(table.Single(c => c.Name == "gateway"), table).ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal("true", gateway["Gateway__MutualTls"]);
        Assert.Equal("/tmp/data", gateway["Mesh__DataDirectory"]);
        var destinations = gateway.Where(e => e.Key.StartsWith("ReverseProxy__Clusters__", StringComparison.Ordinal) && e.Key.EndsWith("__Address", StringComparison.Ordinal)).ToList();
        Assert.Equal(BehindTheGateway.Length, destinations.Count);
        Assert.All(destinations, d => Assert.Equal(Uri.UriSchemeHttps, new Uri(d.Value).Scheme));
    }

    [Fact]
    public void In_compose_and_kubernetes_the_hop_is_plain_h2c_behind_network_policies()
    {
        var table = DeploymentTable.Load();
        var gateway = DeploymentManifestTests.Compose_target().Render(table.Single(c => c.Name == "gateway"), table).ToDictionary(e => e.Key, e => e.Value);

        Assert.Equal("false", gateway["Gateway__MutualTls"]);
        Assert.Equal("http://signals:8101", gateway["ReverseProxy__Clusters__signals__Destinations__signals__Address"]);
    }
}
