using System.Globalization;
using Ketenmesh.Hosting.Deployment;
using Npgsql;

namespace Ketenmesh.Testing;

/// <summary>
/// The real profile on loopback, as <c>deploy/components.ini</c> gives it to <c>./mesh up --real</c>,
/// compose and k8s: each component gets exactly the table's environment. A test changes only what keeps
/// tests apart and changes no behaviour: one RabbitMQ virtual host for all, broker users named after it
/// (made by deploy/rabbitmq-users.sh with each component's own permissions, as production's are), a
/// PostgreSQL database of its own per service, ports, and where the others answer.
/// </summary>
public sealed class RealProfile : IAsyncDisposable
{
    private readonly List<TestDatabase> _databases = [];

    private RealProfile(TestVirtualHost broker) => Broker = broker;

    public TestVirtualHost Broker { get; }

    /// <summary>What the table's <c>DATA_DIRECTORY</c> is in this test: a temporary directory, removed afterwards.</summary>
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("ketenmesh-real-").FullName;

    /// <summary>Where each started component answers; a component not started yet is at its table port (the gateway: <see cref="TestGateway.Shared"/>).</summary>
    public Dictionary<string, Uri> Addresses { get; } = [];

    /// <summary>Where the components' broker passwords live, as <c>./mesh up --real</c> keeps them: the data directory's rabbitmq/.</summary>
    public string BrokerPasswords => Path.Combine(DataDirectory, "rabbitmq");

    /// <summary>
    /// Where <paramref name="component"/> answers on <paramref name="port"/>: https for a service that listens
    /// for the gateway over TLS (its table environment sets <c>Service__MutualTls</c>), http otherwise.
    /// </summary>
    public static Uri AddressOf(string component, int port)
    {
        var deployed = DeploymentTable.Load().Single(c => c.Name == component);
        var scheme = deployed.Environment.Any(e => e.Key == "Service__MutualTls") ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        return new Uri($"{scheme}://127.0.0.1:{port}");
    }

    /// <summary>A channel to a service as this profile's gateway reaches it: its mesh certificate, and <see cref="TestGateway"/>'s tokens.</summary>
    public Grpc.Net.Client.GrpcChannel GatewayChannel(string component, int port) =>
        TestGateway.Shared.Channel(AddressOf(component, port), DataDirectory);

    public static async Task<RealProfile> CreateAsync() => new(await TestVirtualHost.CreateAsync());

    /// <summary>The table's environment for <paramref name="component"/> in this test, as configuration keys.</summary>
    /// <param name="database">Its database; a new one unless given (to restart on the same data). Components without a database get none.</param>
    /// <param name="brokerUser">
    /// The component's broker user in this test, <c>{vhost}-{brokerUser}</c>; by default the component's
    /// name. Another name gives this process a user of its own, so the test can cut it off alone
    /// (<see cref="TestVirtualHost.RemoveUserAsync"/>). Either way it has exactly the component's permissions.
    /// </param>
    /// <param name="port">A fixed port, for a component that must come back where others route to it; otherwise any free one.</param>
    public async Task<(Dictionary<string, string?> Settings, TestDatabase? Database)> ServiceAsync(string component, string? brokerUser = null, TestDatabase? database = null, int? port = null)
    {
        var table = DeploymentTable.Load();
        var deployed = table.SingleOrDefault(c => c.Name == component)
            ?? throw new ArgumentException($"{component} is not in deploy/{DeploymentTable.FileName}", nameof(component));
        var needsDatabase = deployed.Environment.Any(e => DeploymentTarget.PlaceholdersOf(e.Value).Contains("DATABASE"));
        if (database is null && needsDatabase)
        {
            database = await TestDatabase.CreateAsync(component);
            _databases.Add(database);
        }

        string? user = null;
        if (deployed.Environment.Any(e => DeploymentTarget.PlaceholdersOf(e.Value).Contains("RABBITMQ_USER")))
        {
            user = await Broker.AddComponentUserAsync(brokerUser ?? component, component, BrokerPasswords);
        }

        var server = new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres) { Database = null };
        var target = new DeploymentTarget
        {
            BindAddress = "127.0.0.1",
            DataDirectory = DataDirectory,
            Postgres = server.ConnectionString,
            RabbitMqHost = Broker.Host,
            RabbitMqPort = Broker.Port.ToString(CultureInfo.InvariantCulture),
            RabbitMqVirtualHost = Broker.Name,
            RabbitMqUser = name => name == component && user is not null ? user : throw new InvalidOperationException($"{component} is given the broker user of {name}"),
            RabbitMqPassword = name => BrokerUsers.PasswordOf(BrokerPasswords, name),
            LocalClients = true,
            MeshTls = true,
            Database = _ => database?.Name ?? throw new InvalidOperationException($"{component} has no database"),
            // Until a test starts a gateway of its own, the test gateway plays it: services believe its tokens.
            Address = other => Addresses.TryGetValue(other.Name, out var address) ? address.ToString().TrimEnd('/')
                : other.Name == "gateway" ? TestGateway.Shared.Address.ToString().TrimEnd('/')
                : $"http://127.0.0.1:{other.Port}",
        };
        var settings = target.Render(deployed, table)
            .ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value);
        settings["Service:Port"] = (port ?? 0).ToString(CultureInfo.InvariantCulture);
        return (settings, database);
    }

    public async ValueTask DisposeAsync()
    {
        await Broker.DisposeAsync();
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A process may still hold a file for a moment; a temp directory left behind is harmless.
        }
    }
}
