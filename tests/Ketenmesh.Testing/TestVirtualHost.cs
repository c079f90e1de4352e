using RabbitMQ.Client;

namespace Ketenmesh.Testing;

/// <summary>A virtual host of its own per test: queues, exchanges and connection kills stay inside it.</summary>
public sealed class TestVirtualHost : IAsyncDisposable
{
    readonly Uri _broker;

    TestVirtualHost(Uri broker, string name)
    {
        _broker = broker;
        Name = name;
    }

    public string Name { get; }

    string UserName => Uri.UnescapeDataString(_broker.UserInfo.Split(':')[0]);

    string Password => Uri.UnescapeDataString(_broker.UserInfo.Split(':', 2).ElementAtOrDefault(1) ?? "");

    public static async Task<TestVirtualHost> CreateAsync()
    {
        var broker = TestEnvironment.RabbitMq;
        var host = new TestVirtualHost(broker, $"ketenmesh-test-{Guid.NewGuid():N}");
        await Rabbitmqctl.RunAsync("-q", "add_vhost", host.Name);
        await Rabbitmqctl.RunAsync("-q", "set_permissions", "-p", host.Name, host.UserName, ".*", ".*", ".*");
        return host;
    }

    /// <summary>The <c>Messaging</c> section a service in this virtual host would be given.</summary>
    public Dictionary<string, string?> MessagingSettings(string endpointPrefix) => new()
    {
        ["Messaging:Transport"] = "RabbitMq",
        ["Messaging:EndpointPrefix"] = endpointPrefix,
        ["Messaging:RabbitMq:Host"] = _broker.Host,
        ["Messaging:RabbitMq:Port"] = (_broker.IsDefaultPort ? 5672 : _broker.Port).ToString(),
        ["Messaging:RabbitMq:VirtualHost"] = Name,
        ["Messaging:RabbitMq:Username"] = UserName,
        ["Messaging:RabbitMq:Password"] = Password,
    };

    /// <summary>A plain AMQP client for looking at what MassTransit put on the wire.</summary>
    public Task<IConnection> ConnectAsync() => new ConnectionFactory
    {
        HostName = _broker.Host,
        Port = _broker.IsDefaultPort ? 5672 : _broker.Port,
        VirtualHost = Name,
        UserName = UserName,
        Password = Password,
    }.CreateConnectionAsync();

    public Task CloseConnectionsAsync() => Rabbitmqctl.RunAsync("-q", "close_all_connections", "-p", Name, "ketenmesh test: connection killed on purpose");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Rabbitmqctl.RunAsync("-q", "delete_vhost", Name);
        }
        catch (InvalidOperationException)
        {
            // Leftover vhosts are harmless (unique names); failing the test over cleanup would hide its result.
        }
    }
}
