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

    public required string RabbitMqUser { get; init; }

    public required string RabbitMqPassword { get; init; }

    public bool LocalClients { get; init; }

    /// <summary>OTLP endpoint for traces and metrics; empty exports nothing.</summary>
    public string OtlpEndpoint { get; init; } = "";

    /// <summary>Component name to <c>http://host:port</c>; by default the component's own name and table port (compose and Kubernetes DNS).</summary>
    public Func<DeployedComponent, string>? Address { get; init; }

    /// <summary>Component name to database name; by default <c>ketenmesh_{name}</c>.</summary>
    public Func<string, string>? Database { get; init; }

    /// <summary>Components on loopback, as <c>./mesh up --real</c> runs them.</summary>
    public static DeploymentTarget Loopback(string postgres, string rabbitMqUser, string rabbitMqPassword, string dataDirectory, string otlpEndpoint = "") => new()
    {
        OtlpEndpoint = otlpEndpoint,
        BindAddress = "127.0.0.1",
        DataDirectory = dataDirectory,
        Postgres = postgres,
        RabbitMqHost = "127.0.0.1",
        RabbitMqUser = rabbitMqUser,
        RabbitMqPassword = rabbitMqPassword,
        LocalClients = true,
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
        "RABBITMQ_USER" => RabbitMqUser,
        "RABBITMQ_PASSWORD" => RabbitMqPassword,
        "LOCAL_CLIENTS" => LocalClients ? "true" : "false",
        "OTLP_ENDPOINT" => OtlpEndpoint,
        "ADDRESS" => (Address ?? (c => $"http://{c.Name}:{c.Port}"))(
            table.SingleOrDefault(c => c.Name == argument) ?? throw new FormatException($"${{ADDRESS:{argument}}}: no component {argument} in the table.")),
        _ => throw new FormatException($"${{{name}}} is not a placeholder of deploy/{DeploymentTable.FileName}."),
    };

    [GeneratedRegex(@"\$\{(?<name>[A-Z_]+)(:(?<argument>[a-z][a-z0-9-]*))?\}")]
    private static partial Regex Placeholder();
}
