using Ketenmesh.Hosting;
using Ketenmesh.Hosting.Deployment;
using Ketenmesh.Mesh;
using Ketenmesh.Messaging;
using Ketenmesh.Persistence;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;
using static Ketenmesh.Deployment.Tests.Manifests;

namespace Ketenmesh.Deployment.Tests;

/// <summary>docker-compose.yml and k8s/ describe the components the code actually has, as the code reads them.</summary>
public sealed class DeploymentManifestTests
{
    public static TheoryData<string> Components()
    {
        var data = new TheoryData<string>();
        foreach (var component in MeshComponents.Deployed)
        {
            data.Add(component.Name);
        }
        return data;
    }

    /// <summary>
    /// The components partners talk to: the gateway, and identity for tokens, discovery and JWKS. Only
    /// these are reachable from outside (compose publishes them, Kubernetes admits any source); the
    /// rest believes only the gateway (issue 10, section 3).
    /// </summary>
    public static readonly IReadOnlySet<string> PublishedToPartners = new HashSet<string>(StringComparer.Ordinal) { "gateway", "identity" };

    /// <summary>
    /// The privacy officers' console: reached by officers' browsers (HTTP/1.1), not by partners. It answers
    /// nothing without an officer's sign-in and holds no access of its own.
    /// </summary>
    public const string BrowsersOnly = "console";

    private static IMeshComponent Component(string name) => MeshComponents.Deployed.Single(c => c.Name == name);

    [Theory]
    [MemberData(nameof(Components))]
    public void Compose_runs_the_component_from_its_image_and_project(string name)
    {
        var service = Compose().Map("services").Map(name);
        Assert.Equal($"ketenmesh/{name}:dev", Text(service, "image"));
        var args = service.Map("build").Map("args");
        var projectDirectory = Text(args, "PROJECT_DIR") ?? $"services/{Text(args, "COMPONENT")}";
        Assert.True(File.Exists(Path.Combine(RepoRoot, projectDirectory, $"Ketenmesh.{Text(args, "COMPONENT")}.csproj")),
            "the build args must name the component's project (Dockerfile: PROJECT_DIR/Ketenmesh.COMPONENT.csproj)");
    }

    [Fact]
    public void Compose_publishes_only_the_gateway_identity_and_the_officers_console_to_the_host()
    {
        // Every service compose runs, PostgreSQL and RabbitMQ included: a published port is a way
        // around the gateway. The host network would publish every port the container opens.
        foreach (var (key, value) in Compose().Map("services").Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            var service = (YamlMappingNode)value;
            Assert.NotEqual("host", Text(service, "network_mode"));
            var published = service.Has("ports") ? service.Seq("ports").Select(p => ((YamlScalarNode)p).Value!).ToList() : [];
            if (PublishedToPartners.Contains(name) || name == BrowsersOnly)
            {
                var port = Component(name).DefaultPort;
                Assert.Equal(new[] { $"{port}:{port}" }, published);
            }
            else
            {
                Assert.True(published.Count == 0, $"{name} publishes {string.Join(", ", published)}; only {string.Join(" and ", PublishedToPartners.Order())} may");
            }
        }
    }

    [Fact]
    public void The_table_describes_every_component_once_under_its_own_name_port_and_project()
    {
        var table = DeploymentTable.Load();
        Assert.Equal(MeshComponents.Deployed.Select(c => c.Name).Order(), table.Select(c => c.Name).Order());
        foreach (var deployed in table)
        {
            Assert.Equal(Component(deployed.Name).DefaultPort, deployed.Port);
            Assert.True(File.Exists(Path.Combine(RepoRoot, deployed.Project)), $"{deployed.Project} does not exist");
        }
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void The_tables_environment_is_read_by_the_code_and_gives_the_component_what_it_needs(string name)
    {
        var table = DeploymentTable.Load();
        var deployed = table.Single(c => c.Name == name);
        Assert.All(deployed.Environment, e => Assert.True(ConfigurationKeys.IsKnown(ConfigurationKeys.FromEnvironment(e.Key)), $"{e.Key} is not read by the code"));

        var configuration = ToConfiguration(Compose_target().Render(deployed, table).ToDictionary(e => e.Key, e => e.Value));
        var endpoint = EndpointOptions.For(Component(name), configuration);
        Assert.Equal(Component(name).DefaultPort, endpoint.Port);

        var needs = Needs.Of(Component(name));
        if (needs.Database)
        {
            var database = DatabaseOptions.FromConfiguration(configuration.GetSection(DatabaseOptions.SectionName), name);
            Assert.Equal(DatabaseProvider.Postgres, database.Provider);
            Assert.Contains($"Database=ketenmesh_{name}", database.ConnectionString);
            Assert.Contains($"ketenmesh_{name}", File.ReadAllText(Path.Combine(RepoRoot, "k8s/postgres-init.sql")));
        }
        else
        {
            Assert.Null(configuration["Database:Provider"]);
        }

        var messaging = configuration.GetSection(MessagingOptions.SectionName).Get<MessagingOptions>();
        Assert.Equal(needs.Bus, messaging?.Transport == MessagingTransport.RabbitMq);
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void Compose_gives_the_component_exactly_the_tables_environment(string name)
    {
        var table = DeploymentTable.Load();
        var expected = Compose_target().Render(table.Single(c => c.Name == name), table).ToDictionary(e => e.Key, e => e.Value);
        var compose = Compose().Map("services");
        var actual = Scalars(compose.Map(name).Map("environment"));
        Assert.Equal(expected.OrderBy(e => e.Key), actual.OrderBy(e => e.Key));

        // Every address it is given to call names a service compose runs.
        var browsers = BrowserSettings(name);
        foreach (var address in actual.Where(e => !browsers.Contains(e.Key)).Select(e => e.Value).Where(v => v.StartsWith("http://", StringComparison.Ordinal)))
        {
            Assert.True(compose.Has(new Uri(address).Host), $"{address} is not a compose service");
        }
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void Kubernetes_gives_the_component_exactly_the_tables_environment_with_credentials_from_secrets(string name)
    {
        var table = DeploymentTable.Load();
        var deployed = table.Single(c => c.Name == name);
        var documents = Kubernetes();
        var configMap = Scalars((Find(documents, "ConfigMap", name) ?? throw new Xunit.Sdk.XunitException($"no ConfigMap {name}")).Map("data"));
        var container = (YamlMappingNode)(Find(documents, "Deployment", name) ?? throw new Xunit.Sdk.XunitException($"no Deployment {name}"))
            .Map("spec").Map("template").Map("spec").Seq("containers").Single();
        var fromSecrets = container.Has("env")
            ? container.Seq("env").Cast<YamlMappingNode>().Where(e => e.Has("valueFrom") && e.Map("valueFrom").Has("secretKeyRef")).Select(e => Text(e, "name")!).ToHashSet()
            : [];
        var target = Kubernetes_target();
        var expectedInConfigMap = new Dictionary<string, string>();
        foreach (var (key, template) in deployed.Environment)
        {
            if (DeploymentTarget.PlaceholdersOf(template).Any(DeploymentTarget.Secrets.Contains))
            {
                Assert.True(fromSecrets.Contains(key), $"{key} carries a credential and must come from a Secret");
                if (DeploymentTarget.PlaceholdersOf(template).Contains("RABBITMQ_PASSWORD"))
                {
                    // The component's own broker password, from a Secret of its own (k8s/README.md).
                    var reference = container.Seq("env").Cast<YamlMappingNode>().Single(e => Text(e, "name") == key).Map("valueFrom").Map("secretKeyRef");
                    Assert.Equal($"rabbitmq-{name}", Text(reference, "name"));
                    Assert.Equal("password", Text(reference, "key"));
                }
            }
            else
            {
                expectedInConfigMap[key] = target.Fill(template, table);
            }
        }

        Assert.Equal(expectedInConfigMap.OrderBy(e => e.Key), configMap.OrderBy(e => e.Key));
        Assert.All(fromSecrets, key => Assert.Contains(key, deployed.Environment.Select(e => e.Key)));
    }

    [Fact]
    public void The_mesh_script_gives_components_no_setting_of_its_own()
    {
        // `./mesh up --real` takes every component and its environment from the table; a Section__Key
        // written into the script would be a setting compose, k8s and the tests do not have.
        var script = File.ReadAllText(Path.Combine(RepoRoot, "mesh"));
        Assert.Contains("deployment list", script);
        Assert.Contains("deployment env", script);
        Assert.DoesNotMatch(@"\b[A-Z][A-Za-z]+__[A-Z][A-Za-z]+", script);
    }

    /// <summary>Compose and Kubernetes: each component a host of its own name, credentials from outside.</summary>
    internal static DeploymentTarget Compose_target() => new()
    {
        BindAddress = "0.0.0.0",
        DataDirectory = "/data",
        Postgres = "Host=postgres;Port=5432;Username=ketenmesh;Password=${KETENMESH_POSTGRES_PASSWORD}",
        RabbitMqHost = "rabbitmq",
        // Each component's own broker user (ketenmesh-<name>, the default) and its password from the shell.
        RabbitMqPassword = component => $"${{{BrokerUserTests.PasswordVariable(component)}}}",
        LocalClients = false,
        // Compose passes the caller's OTEL_EXPORTER_OTLP_ENDPOINT on; unset, nothing is exported.
        OtlpEndpoint = "${OTEL_EXPORTER_OTLP_ENDPOINT:-}",
    };

    /// <summary>As compose, with the cluster's OpenTelemetry collector as the OTLP endpoint.</summary>
    internal static DeploymentTarget Kubernetes_target() => Compose_target() with { OtlpEndpoint = "http://otel-collector:4317" };

    [Theory]
    [MemberData(nameof(Components))]
    public void Kubernetes_deployment_service_and_config_map_agree_with_the_component(string name)
    {
        var component = Component(name);
        var documents = Kubernetes();
        var deployment = Find(documents, "Deployment", name) ?? throw new Xunit.Sdk.XunitException($"no Deployment {name}");
        var service = Find(documents, "Service", name) ?? throw new Xunit.Sdk.XunitException($"no Service {name}");
        var configMap = Find(documents, "ConfigMap", name) ?? throw new Xunit.Sdk.XunitException($"no ConfigMap {name}");

        var container = (YamlMappingNode)deployment.Map("spec").Map("template").Map("spec").Seq("containers").Single();
        Assert.Equal($"ketenmesh/{name}:dev", Text(container, "image"));
        var containerPort = int.Parse(Text((YamlMappingNode)container.Seq("ports").Single(), "containerPort")!);
        Assert.Equal(component.DefaultPort, containerPort);
        if (name == BrowsersOnly)
        {
            // A browser's component speaks HTTP/1.1, not gRPC: its probes are HTTP, on its port.
            foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
            {
                Assert.Equal(component.DefaultPort.ToString(), Text(container.Map(probe).Map("httpGet"), "port"));
            }

            Assert.Equal("/healthz/ready", Text(container.Map("readinessProbe").Map("httpGet"), "path"));
            Assert.Equal("/healthz/live", Text(container.Map("livenessProbe").Map("httpGet"), "path"));
            Assert.Equal(component.DefaultPort.ToString(), Text((YamlMappingNode)service.Map("spec").Seq("ports").Single(), "targetPort"));
            return;
        }

        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
        {
            Assert.Equal(component.DefaultPort.ToString(), Text(container.Map(probe).Map("grpc"), "port"));
        }

        // Readiness is the whole server's grpc.health.v1 status (database and broker); liveness its own
        // service, which an outage does not touch, so an outage takes the pod out of traffic, not restarts it.
        Assert.Null(Text(container.Map("readinessProbe").Map("grpc"), "service"));
        Assert.Equal(Ketenmesh.Hosting.GrpcServer.ProcessHealth.LivenessService, Text(container.Map("livenessProbe").Map("grpc"), "service"));

        var servicePort = (YamlMappingNode)service.Map("spec").Seq("ports").Single();
        Assert.Equal(component.DefaultPort.ToString(), Text(servicePort, "targetPort"));
        Assert.Equal(name, Text(service.Map("spec").Map("selector"), "app.kubernetes.io/name"));

        Assert.NotNull(configMap);
    }

    [Fact]
    public void Compose_and_kubernetes_cover_every_component_and_nothing_else()
    {
        var names = MeshComponents.Deployed.Select(c => c.Name).ToHashSet();
        var composeApps = Compose().Map("services").Children.Keys.Select(k => ((YamlScalarNode)k).Value!)
            .Where(n => n is not "postgres" and not "rabbitmq" and not "rabbitmq-users").ToHashSet();
        var deployments = Kubernetes().Where(d => Text(d, "kind") == "Deployment").Select(d => Text(d.Map("metadata"), "name")!).ToHashSet();
        Assert.Equal(names, composeApps);
        Assert.Equal(names, deployments);
    }

    [Fact]
    public void Manifests_hold_no_secrets_only_references()
    {
        var compose = File.ReadAllText(Path.Combine(RepoRoot, "docker-compose.yml"));
        Assert.DoesNotMatch(@"PASSWORD:\s*[""']?[A-Za-z0-9]{4,}[""']?\s*$", compose);
        foreach (var document in Kubernetes())
        {
            Assert.NotEqual("Secret", Text(document, "kind"));
        }
    }

    private static IConfiguration ToConfiguration(Dictionary<string, string> environment) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(e => new KeyValuePair<string, string?>(ConfigurationKeys.FromEnvironment(e.Key), e.Value)))
            .Build();
}
