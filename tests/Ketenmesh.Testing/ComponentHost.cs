using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using MassTransit;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Testing;

/// <summary>
/// One mesh component hosted for real on a free loopback port, as its own Program.cs would host it,
/// optionally with listeners on its bus (consumers standing in for the rest of the chain).
/// </summary>
public sealed class ComponentHost : IAsyncDisposable
{
    private readonly MeshApplication _mesh;
    private readonly GrpcChannel _channel;
    private readonly string? _ownedDirectory;

    private ComponentHost(MeshApplication mesh, string? ownedDirectory)
    {
        _mesh = mesh;
        _ownedDirectory = ownedDirectory;
        _channel = TestGateway.Shared.Channel(mesh.Addresses.First(), mesh.App.Configuration["Mesh:DataDirectory"]);
    }

    public GrpcChannel Channel => _channel;

    public Uri Address => _mesh.Addresses.First();

    public IServiceProvider Services => _mesh.App.Services;

    /// <param name="listeners">Adds consumers (and what they need) to the component's bus.</param>
    public static async Task<ComponentHost> StartAsync(IMeshComponent component, Dictionary<string, string?> settings, Action<IServiceCollection, ChainMessagingBuilder>? listeners = null, string? ownedDirectory = null)
    {
        // A free port unless the test pins one (a restarted service must come back where the gateway routes).
        settings.TryAdd("Service:Port", "0");
        // Called straight, as the gateway would call it: the test gateway's tokens are the ones it believes.
        settings.TryAdd("CallerTrust:Gateway", TestGateway.Shared.Address.ToString());
        IMeshComponent hosted = listeners is null ? component : new WithListeners(component, listeners);
        var mesh = MeshHost.Build(hosted, [], configuration => configuration.AddInMemoryCollection(settings));
        await mesh.App.StartAsync();
        return new ComponentHost(mesh, ownedDirectory);
    }

    /// <summary>The embedded profile: a SQLite file in a fresh directory (removed on dispose) and the in-process bus.</summary>
    public static Task<ComponentHost> StartEmbeddedAsync(IMeshComponent component, Action<IServiceCollection, ChainMessagingBuilder>? listeners = null)
    {
        var directory = Directory.CreateTempSubdirectory($"ketenmesh-{component.Name}-").FullName;
        return StartAsync(component, EmbeddedSettings(component, directory), listeners, directory);
    }

    public static Dictionary<string, string?> EmbeddedSettings(IMeshComponent component, string directory) => new()
    {
        ["Database:Provider"] = "Sqlite",
        ["Database:ConnectionString"] = $"Data Source={Path.Combine(directory, $"{component.Name}.db")}",
        ["Messaging:Transport"] = "InMemory",
    };

    /// <summary>Call options of a partner as the gateway would vouch for it (on <see cref="Channel"/>, which mints its token).</summary>
    public static CallOptions As(string partner) => new(headers: new Metadata { { CallerPartner.PartnerHeader, partner } });

    /// <summary>Publishes on the component's bus as another service would; the same message id makes it a redelivery.</summary>
    public Task PublishAsync<T>(T message, Guid? messageId = null) where T : class =>
        Services.GetRequiredService<IBus>().Publish(message, c => c.MessageId = messageId ?? Guid.NewGuid());

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
        if (_ownedDirectory is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_ownedDirectory, recursive: true);
        }
    }

    private sealed class WithListeners(IMeshComponent inner, Action<IServiceCollection, ChainMessagingBuilder> listeners) : IMeshComponent
    {
        public string Name => inner.Name;

        public int DefaultPort => inner.DefaultPort;

        public bool MapsOwnHealthAndReflection => inner.MapsOwnHealthAndReflection;

        public void AddServices(IServiceCollection services, IConfiguration configuration)
        {
            inner.AddServices(services, configuration);
            listeners(services, services.AddChainMessaging(configuration, "probe"));
        }

        public void MapEndpoints(IEndpointRouteBuilder endpoints) => inner.MapEndpoints(endpoints);
    }
}
