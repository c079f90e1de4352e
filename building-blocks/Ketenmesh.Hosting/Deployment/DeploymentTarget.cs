using System.Text.RegularExpressions;

namespace Ketenmesh.Hosting.Deployment;

/// <summary>
/// Where the real profile runs (loopback, compose, Kubernetes, a test): the values of the table's
/// <c>${...}</c> placeholders there. A target fills in addresses, credentials and names; what a
/// component does is the same everywhere, because the table is.
/// </summary>
public sealed partial record DeploymentTarget
{
    /// <summary>Placeholders whose value is a credential: Kubernetes takes them from a Secret, never a ConfigMap.</summary>
    public static readonly IReadOnlySet<string> Secrets = new HashSet<string>(StringComparer.Ordinal) { "POSTGRES", "RABBITMQ_PASSWORD" };

    public required string BindAddress { get; init; }

    public required string DataDirectory { get; init; }

    /// <summary>Server part of an Npgsql connection string: Host, Port, Username, Password.</summary>
    public required string Postgres { get; init; }

    public required string RabbitMqHost { get; init; }

    public string RabbitMqPort { get; init; } = "5672";

    public string RabbitMqVirtualHost { get; init; } = "/";

    /// <summary>
    /// Component name to the RabbitMQ user it connects as (<c>${RABBITMQ_USER:name}</c>): one user per
    /// component, with only that component's permissions; by default <see cref="BrokerUser"/>.
    /// </summary>
    public Func<string, string> RabbitMqUser { get; init; } = BrokerUser;

    /// <summary>Component name to its RabbitMQ user's password (<c>${RABBITMQ_PASSWORD:name}</c>), a secret.</summary>
    public required Func<string, string> RabbitMqPassword { get; init; }

    public bool LocalClients { get; init; }

    /// <summary>OTLP endpoint for traces and metrics; empty exports nothing.</summary>
    public string OtlpEndpoint { get; init; } = "";

    /// <summary>Component name to <c>http://host:port</c>; by default the component's own name and table port (compose and Kubernetes DNS).</summary>
    public Func<DeployedComponent, string>? Address { get; init; }

    /// <summary>
    /// The hop behind the gateway runs over TLS with client certificates from the development mesh
    /// authority in the data directory (<c>${MESH_TLS}</c>, and <c>${SERVICE_ADDRESS:name}</c> is https).
    /// On loopback, where all components share one data directory; a cluster brings its own mTLS.
    /// </summary>
    public bool MeshTls { get; init; }

    /// <summary>
    /// Component to where people's browsers reach it (<c>${BROWSER_ADDRESS:name}</c>, the officers' console);
    /// by default <see cref="Address"/> when a target sets one (loopback, a test), else <c>http://localhost:port</c>:
    /// compose publishes the port on the host, and in Kubernetes <c>kubectl port-forward</c> gives the same (a
    /// cluster behind an ingress sets its own, k8s/README.md).
    /// </summary>
    public Func<DeployedComponent, string>? BrowserAddress { get; init; }

    /// <summary>Component name to database name; by default <c>ketenmesh_{name}</c>.</summary>
    public Func<string, string>? Database { get; init; }

    /// <summary>The RabbitMQ user of <paramref name="component"/> outside tests: <c>ketenmesh-{component}</c> (deploy/rabbitmq-users.sh makes it).</summary>
    public static string BrokerUser(string component) => $"ketenmesh-{component}";

    /// <summary>Components on loopback, as <c>./mesh up --real</c> runs them.</summary>
    /// <param name="rabbitMqPassword">Component name to its broker user's password.</param>
    public static DeploymentTarget Loopback(string postgres, Func<string, string> rabbitMqPassword, string dataDirectory, string otlpEndpoint = "") => new()
    {
        OtlpEndpoint = otlpEndpoint,
        BindAddress = "127.0.0.1",
        DataDirectory = dataDirectory,
        Postgres = postgres,
        RabbitMqHost = "127.0.0.1",
        RabbitMqPassword = rabbitMqPassword,
        LocalClients = true,
        MeshTls = true,
        Address = component => $"http://127.0.0.1:{component.Port}",
    };

    /// <summary>The environment <paramref name="component"/> runs with here, in table order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Render(DeployedComponent component, IReadOnlyList<DeployedComponent> table) =>
        component.Environment.Select(e => new KeyValuePair<string, string>(e.Key, Fill(e.Value, table))).ToList();

    /// <summary>Fills every placeholder of <paramref name="template"/>; an unknown one is an error, not an empty string.</summary>
    public string Fill(string template, IReadOnlyList<DeployedComponent> table) =>
        Placeholder().Replace(template, match => Value(match.Groups["name"].Value, match.Groups["argument"].Value, table));

    /// <summary>The placeholders a template uses, e.g. <c>POSTGRES</c> and <c>DATABASE</c>.</summary>
    public static IEnumerable<string> PlaceholdersOf(string template) =>
        Placeholder().Matches(template).Select(m => m.Groups["name"].Value);

    string Value(string name, string argument, IReadOnlyList<DeployedComponent> table) => name switch
    {
        "BIND_ADDRESS" => BindAddress,
        "DATA_DIRECTORY" => DataDirectory,
        "POSTGRES" => Postgres,
        "DATABASE" => Database?.Invoke(argument) ?? $"ketenmesh_{argument}",
        "RABBITMQ_HOST" => RabbitMqHost,
        "RABBITMQ_PORT" => RabbitMqPort,
        "RABBITMQ_VHOST" => RabbitMqVirtualHost,
        "RABBITMQ_USER" => RabbitMqUser(Component(name, argument)),
        "RABBITMQ_PASSWORD" => RabbitMqPassword(Component(name, argument)),
        "LOCAL_CLIENTS" => LocalClients ? "true" : "false",
        "OTLP_ENDPOINT" => OtlpEndpoint,
        "ADDRESS" => AddressOf(name, argument, table),
        "BROWSER_ADDRESS" => (BrowserAddress ?? Address ?? (c => $"http://localhost:{c.Port}"))(ComponentOf(name, argument, table)),
        "MESH_TLS" => MeshTls ? "true" : "false",
        "SERVICE_ADDRESS" => MeshTls ? new UriBuilder(AddressOf(name, argument, table)) { Scheme = Uri.UriSchemeHttps }.Uri.ToString().TrimEnd('/') : AddressOf(name, argument, table),
        _ => throw new FormatException($"${{{name}}} is not a placeholder of deploy/{DeploymentTable.FileName}."),
    };

    string AddressOf(string name, string argument, IReadOnlyList<DeployedComponent> table) =>
        (Address ?? (c => $"http://{c.Name}:{c.Port}"))(ComponentOf(name, argument, table));

    static DeployedComponent ComponentOf(string name, string argument, IReadOnlyList<DeployedComponent> table) =>
        table.SingleOrDefault(c => c.Name == argument) ?? throw new FormatException($"${{{name}:{argument}}}: no component {argument} in the table.");

    /// <summary>A placeholder that is per component, such as <c>${RABBITMQ_USER:signals}</c>, must name it.</summary>
    static string Component(string name, string argument) =>
        argument.Length > 0 ? argument : throw new FormatException($"${{{name}}} needs the component whose it is: ${{{name}:name}}.");

    [GeneratedRegex(@"\$\{(?<name>[A-Z_]+)(:(?<argument>[a-z][a-z0-9-]*))?\}")]
    private static partial Regex Placeholder();
}
