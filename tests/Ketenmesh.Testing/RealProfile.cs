using System.Globalization;

namespace Ketenmesh.Testing;

/// <summary>
/// The real profile on loopback for services hosted in one test: one RabbitMQ virtual host for all,
/// a PostgreSQL database of its own per service, everything removed afterwards.
/// </summary>
public sealed class RealProfile : IAsyncDisposable
{
    private readonly List<TestDatabase> _databases = [];

    private RealProfile(TestVirtualHost broker) => Broker = broker;

    public TestVirtualHost Broker { get; }

    public static async Task<RealProfile> CreateAsync() => new(await TestVirtualHost.CreateAsync());

    /// <summary>A service's settings: its database (a new one unless given, e.g. to restart on the same data) and the broker.</summary>
    /// <param name="brokerUser">A broker user of its own, so the test can cut this process off (see <see cref="TestVirtualHost.AddUserAsync"/>).</param>
    /// <param name="port">A fixed port, for a service that must come back where others route to it.</param>
    public async Task<(Dictionary<string, string?> Settings, TestDatabase Database)> ServiceAsync(string component, string? brokerUser = null, TestDatabase? database = null, int? port = null)
    {
        if (database is null)
        {
            database = await TestDatabase.CreateAsync(component);
            _databases.Add(database);
        }
        var settings = database.Settings("Database").Concat(Broker.MessagingSettings(component))
            .Concat(brokerUser is null ? [] : await Broker.AddUserAsync(brokerUser))
            .GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        if (port is { } pinned)
        {
            settings["Service:Port"] = pinned.ToString(CultureInfo.InvariantCulture);
        }
        return (settings, database);
    }

    public async ValueTask DisposeAsync()
    {
        await Broker.DisposeAsync();
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
    }
}
