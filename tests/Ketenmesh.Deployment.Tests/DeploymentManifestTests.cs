using Ketenmesh.Hosting;
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
        foreach (var component in MeshComponents.All)
        {
            data.Add(component.Name);
        }
        return data;
    }

    private static IMeshComponent Component(string name) => MeshComponents.All.Single(c => c.Name == name);

    [Theory]
    [MemberData(nameof(Components))]
    public void Compose_runs_the_component_from_its_image_on_its_port(string name)
    {
        var component = Component(name);
        var service = Compose().Map("services").Map(name);
        Assert.Equal($"ketenmesh/{name}:dev", Text(service, "image"));
        var ports = service.Seq("ports").Select(p => ((YamlScalarNode)p).Value).ToList();
        Assert.Contains($"{component.DefaultPort}:{component.DefaultPort}", ports);
        var args = service.Map("build").Map("args");
        var projectDirectory = Text(args, "PROJECT_DIR") ?? $"services/{Text(args, "COMPONENT")}";
        Assert.True(File.Exists(Path.Combine(RepoRoot, projectDirectory, $"Ketenmesh.{Text(args, "COMPONENT")}.csproj")),
            "the build args must name the component's project (Dockerfile: PROJECT_DIR/Ketenmesh.COMPONENT.csproj)");
    }

    [Theory]
    [MemberData(nameof(Components))]
    public void Compose_environment_is_read_by_the_code_and_points_at_services_compose_defines(string name)
    {
        var compose = Compose();
        var environment = Scalars(compose.Map("services").Map(name).Map("environment"));
        Assert.All(environment.Keys, key => Assert.True(ConfigurationKeys.IsKnown(ConfigurationKeys.FromEnvironment(key)), $"{key} is not read by the code"));

        var configuration = ToConfiguration(environment);
        var endpoint = EndpointOptions.For(Component(name), configuration);
        Assert.Equal(Component(name).DefaultPort, endpoint.Port);
        Assert.Equal("0.0.0.0", endpoint.BindAddress);

        var needs = Needs.Of(Component(name));
        if (needs.Database)
        {
            var database = DatabaseOptions.FromConfiguration(configuration.GetSection(DatabaseOptions.SectionName), name);
            Assert.Equal(DatabaseProvider.Postgres, database.Provider);
            Assert.Contains($"Database=ketenmesh_{name}", database.ConnectionString);
            Assert.Contains($"ketenmesh_{name}", File.ReadAllText(Path.Combine(RepoRoot, "k8s/postgres-init.sql")));
            var host = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString).Host!;
            Assert.True(compose.Map("services").Has(host), $"{host} is not a compose service");
        }
        else
        {
            Assert.DoesNotContain("Database:Provider", environment.Keys.Select(ConfigurationKeys.FromEnvironment));
        }

        if (needs.Bus)
        {
            var messaging = configuration.GetSection(MessagingOptions.SectionName).Get<MessagingOptions>()!;
            Assert.Equal(MessagingTransport.RabbitMq, messaging.Transport);
            Assert.True(compose.Map("services").Has(messaging.RabbitMq.Host), $"{messaging.RabbitMq.Host} is not a compose service");
        }

        // Every component that names another by address must name a compose service.
        foreach (var address in environment.Values.Where(v => v.StartsWith("http://", StringComparison.Ordinal)))
        {
            var target = new Uri(address).Host;
            Assert.True(compose.Map("services").Has(target), $"{address}: {target} is not a compose service");
        }
    }

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
        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
        {
            Assert.Equal(component.DefaultPort.ToString(), Text(container.Map(probe).Map("grpc"), "port"));
        }

        var servicePort = (YamlMappingNode)service.Map("spec").Seq("ports").Single();
        Assert.Equal(component.DefaultPort.ToString(), Text(servicePort, "targetPort"));
        Assert.Equal(name, Text(service.Map("spec").Map("selector"), "app.kubernetes.io/name"));

        var data = Scalars(configMap.Map("data"));
        var secretNames = container.Has("env") ? container.Seq("env").Select(e => Text((YamlMappingNode)e, "name")!).ToList() : [];
        Assert.All(data.Keys.Concat(secretNames), key => Assert.True(ConfigurationKeys.IsKnown(ConfigurationKeys.FromEnvironment(key)), $"{key} is not read by the code"));
        var configuration = ToConfiguration(data);
        Assert.Equal(containerPort, EndpointOptions.For(component, configuration).Port);
        if (Needs.Of(component).Database)
        {
            Assert.Equal("Postgres", configuration["Database:Provider"]);
            Assert.Contains("Database__ConnectionString", secretNames);
        }
    }

    [Fact]
    public void Compose_and_kubernetes_cover_every_component_and_nothing_else()
    {
        var names = MeshComponents.All.Select(c => c.Name).ToHashSet();
        var composeApps = Compose().Map("services").Children.Keys.Select(k => ((YamlScalarNode)k).Value!)
            .Where(n => n is not "postgres" and not "rabbitmq").ToHashSet();
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
