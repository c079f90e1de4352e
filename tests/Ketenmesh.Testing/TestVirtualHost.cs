using RabbitMQ.Client;

namespace Ketenmesh.Testing;

/// <summary>A virtual host of its own per test: queues, exchanges and connection kills stay inside it.</summary>
public sealed class TestVirtualHost : IAsyncDisposable
{
    readonly Uri _broker;
    readonly List<string> _users = [];
    readonly Dictionary<string, string> _passwords = [];
    readonly Dictionary<string, (string Component, string Passwords)> _componentUsers = [];

    TestVirtualHost(Uri broker, string name)
    {
        _broker = broker;
        Name = name;
    }

    public string Name { get; }

    public string Host => _broker.Host;

    public int Port => _broker.IsDefaultPort ? 5672 : _broker.Port;

    public string UserName => Uri.UnescapeDataString(_broker.UserInfo.Split(':')[0]);

    public string Password => Uri.UnescapeDataString(_broker.UserInfo.Split(':', 2).ElementAtOrDefault(1) ?? "");

    public static async Task<TestVirtualHost> CreateAsync()
    {
        var broker = TestEnvironment.RabbitMq;
        var host = new TestVirtualHost(broker, $"ketenmesh-test-{Guid.NewGuid():N}");
        await Rabbitmqctl.RunAsync("-q", "add_vhost", host.Name);
        await Rabbitmqctl.RunAsync("-q", "set_permissions", "-p", host.Name, host.UserName, ".*", ".*", ".*");
        return host;
    }

    /// <summary>The <c>Messaging</c> section a service in this virtual host would be given.</summary>
    public Dictionary<string, string?> MessagingSettings() => new()
    {
        ["Messaging:Transport"] = "RabbitMq",
        ["Messaging:RabbitMq:Host"] = _broker.Host,
        ["Messaging:RabbitMq:Port"] = Port.ToString(),
        ["Messaging:RabbitMq:VirtualHost"] = Name,
        ["Messaging:RabbitMq:Username"] = UserName,
        ["Messaging:RabbitMq:Password"] = Password,
    };

    /// <summary>A plain AMQP client for looking at what MassTransit put on the wire.</summary>
    public Task<IConnection> ConnectAsync() => new ConnectionFactory
    {
        HostName = _broker.Host,
        Port = Port,
        VirtualHost = Name,
        UserName = UserName,
        Password = Password,
    }.CreateConnectionAsync();

    public Task CloseConnectionsAsync() => Rabbitmqctl.RunAsync("-q", "close_all_connections", "-p", Name, "ketenmesh test: connection killed on purpose");

    /// <summary>
    /// A broker user of its own for one process, so the test can later end everything that process
    /// holds on the broker, including connections it would open again (<see cref="RemoveUserAsync"/>).
    /// </summary>
    /// <returns>The settings that make a service connect as that user.</returns>
    public async Task<Dictionary<string, string?>> AddUserAsync(string user)
    {
        var password = Guid.NewGuid().ToString("N");
        await Rabbitmqctl.RunAsync("-q", "add_user", $"{Name}-{user}", password);
        await Rabbitmqctl.RunAsync("-q", "set_permissions", "-p", Name, $"{Name}-{user}", ".*", ".*", ".*");
        _users.Add($"{Name}-{user}");
        _passwords[user] = password;
        return new()
        {
            ["Messaging:RabbitMq:Username"] = $"{Name}-{user}",
            ["Messaging:RabbitMq:Password"] = password,
            ["Messaging:RabbitMq:ConnectionName"] = user,
        };
    }

    /// <summary>
    /// A broker user of its own for one process of <paramref name="component"/>, made the way production
    /// makes it: deploy/rabbitmq-users.sh, with exactly the component's permissions from
    /// deploy/rabbitmq-permissions.tsv, its password in <paramref name="passwords"/>/&lt;component&gt;.password.
    /// </summary>
    /// <returns>The user's name, <c>{vhost}-{user}</c>, so it can be cut off like any other (<see cref="RemoveUserAsync"/>).</returns>
    public async Task<string> AddComponentUserAsync(string user, string component, string passwords)
    {
        await BrokerUsers.ProvisionAsync(Name, passwords, (component, $"{Name}-{user}"));
        if (!_users.Contains($"{Name}-{user}"))
        {
            _users.Add($"{Name}-{user}");
        }

        _componentUsers[user] = (component, passwords);
        return $"{Name}-{user}";
    }

    /// <summary>Deletes the user and closes its connections: whatever still runs under it can no longer reach the broker.</summary>
    /// <returns>How many connections were still open.</returns>
    public async Task<int> RemoveUserAsync(string user)
    {
        await Rabbitmqctl.RunAsync("-q", "delete_user", $"{Name}-{user}");
        _users.Remove($"{Name}-{user}");
        return await CloseConnectionsOfAsync(user);
    }

    /// <summary>Gives a removed user back, with its old password: the process it belongs to can reconnect.</summary>
    public async Task RestoreUserAsync(string user)
    {
        if (_componentUsers.TryGetValue(user, out var made))
        {
            await AddComponentUserAsync(user, made.Component, made.Passwords);
            return;
        }

        await Rabbitmqctl.RunAsync("-q", "add_user", $"{Name}-{user}", _passwords[user]);
        await Rabbitmqctl.RunAsync("-q", "set_permissions", "-p", Name, $"{Name}-{user}", ".*", ".*", ".*");
        _users.Add($"{Name}-{user}");
    }

    /// <summary>
    /// Kills the one connection of a component's user once it has one. A component connects, and reconnects after a
    /// kill, in its own time: a CI run once found none at the moment of a kill, so the kill waits for it (30 s at most).
    /// </summary>
    public Task KillTheConnectionOfAsync(string user) =>
        Eventually.SucceedsAsync(async () => Xunit.Assert.Equal(1, await CloseConnectionsOfAsync(user)), TimeSpan.FromSeconds(30));

    /// <summary>Kills the connections of one user made with <see cref="AddUserAsync"/>, leaving everyone else's.</summary>
    /// <returns>How many were closed.</returns>
    public async Task<int> CloseConnectionsOfAsync(string user)
    {
        var closed = 0;
        // One line per connection: its pid ("<rabbit@host.1.2.3>", the form close_connection takes), a tab, its user.
        var listing = await Rabbitmqctl.RunAsync("-q", "--no-table-headers", "list_connections", "-p", Name, "pid", "user");
        foreach (var fields in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t')))
        {
            if (fields.Length > 1 && fields[1].Trim() == $"{Name}-{user}")
            {
                await Rabbitmqctl.RunAsync("-q", "close_connection", fields[0], "ketenmesh test: connection killed on purpose");
                closed++;
            }
        }

        return closed;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var user in _users.ToList())
            {
                await Rabbitmqctl.RunAsync("-q", "delete_user", user);
            }

            await Rabbitmqctl.RunAsync("-q", "delete_vhost", Name);
        }
        catch (InvalidOperationException)
        {
            // Leftover vhosts are harmless (unique names); failing the test over cleanup would hide its result.
        }
    }
}
