using Ketenmesh.Messaging.Tests.Chain;

namespace Ketenmesh.Messaging.Tests.Infrastructure;

/// <summary>
/// The real profile for the two test services: a virtual host of their own on the real broker and
/// a PostgreSQL database each, created per test and removed after it.
/// </summary>
public abstract class RealProfileFixture : IAsyncLifetime
{
    protected TestVirtualHost Broker { get; private set; } = null!;

    protected TestDatabase IntakeDatabase { get; private set; } = null!;

    protected TestDatabase RegistryDatabase { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Broker = await TestVirtualHost.CreateAsync();
        IntakeDatabase = await TestDatabase.CreateAsync("intake");
        RegistryDatabase = await TestDatabase.CreateAsync("registry");
    }

    public async Task DisposeAsync()
    {
        await RegistryDatabase.DisposeAsync();
        await IntakeDatabase.DisposeAsync();
        await Broker.DisposeAsync();
    }

    internal Dictionary<string, string?> IntakeSettings(params IEnumerable<KeyValuePair<string, string?>>[] overrides) =>
        TestHosts.Merge([Broker.MessagingSettings(), IntakeDatabase.Settings(Components.IntakeDatabase), .. overrides]);

    internal Dictionary<string, string?> RegistrySettings(params IEnumerable<KeyValuePair<string, string?>>[] overrides) =>
        TestHosts.Merge([Broker.MessagingSettings(), RegistryDatabase.Settings(Components.RegistryDatabase), .. overrides]);
}
