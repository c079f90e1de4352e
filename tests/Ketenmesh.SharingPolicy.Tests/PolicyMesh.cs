using System.Net;
using System.Net.Sockets;
using Chain.Policy.V1;
using Ketenmesh.Gateway;
using Ketenmesh.Gateway.Access;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Identity;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Ketenmesh.SharingPolicy.Tests;

/// <summary>Identity, the sharing-policy service and a gateway following it, on loopback; the store on SQLite or PostgreSQL.</summary>
public sealed class PolicyMesh : IAsyncDisposable
{

    private readonly MeshApplication _mesh;
    private readonly GrpcChannel _channel;
    private readonly string _directory;
    private readonly TestDatabase? _database;

    private PolicyMesh(MeshApplication mesh, Uri policy, string directory, TestDatabase? database)
    {
        _mesh = mesh;
        _directory = directory;
        _database = database;
        _channel = GrpcChannel.ForAddress(policy);
        Client = _channel;
    }

    public ChannelBase Client { get; }

    public IServiceProvider Services => _mesh.App.Services;

    public static async Task<PolicyMesh> StartAsync(string provider, string? directory = null, TestDatabase? database = null)
    {
        directory ??= System.IO.Directory.CreateTempSubdirectory("ketenmesh-policy-").FullName;
        if (provider == "Postgres")
        {
            database ??= await TestDatabase.CreateAsync("policy");
        }
        int identity = FreePort(), policy = FreePort(), gateway = FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = directory,
            ["Components:identity:Service:Port"] = identity.ToString(),
            ["Components:policy:Service:Port"] = policy.ToString(),
            ["Components:gateway:Service:Port"] = gateway.ToString(),
            ["Identity:Issuer"] = $"http://127.0.0.1:{identity}",
            ["SharingPolicy:Authority"] = $"http://127.0.0.1:{identity}",
            ["Gateway:Authority"] = $"http://127.0.0.1:{identity}",
            ["Gateway:PolicyAddress"] = $"http://127.0.0.1:{policy}",
        };
        if (database is not null)
        {
            settings["Components:policy:Database:Provider"] = "Postgres";
            settings["Components:policy:Database:ConnectionString"] = database.ConnectionString;
        }
        var mesh = MeshHost.BuildEmbedded([new IdentityComponent(), new SharingPolicyComponent(), new GatewayComponent()], [], c => c.AddInMemoryCollection(settings));
        await mesh.App.StartAsync();
        return new PolicyMesh(mesh, new Uri($"http://127.0.0.1:{policy}"), directory, database) { Directory = directory, Database = database };
    }

    public string Directory { get; private init; } = "";

    public TestDatabase? Database { get; private init; }

    public CallOptions As(string officerOrPartner)
    {
        var issuer = Services.GetRequiredService<AccessTokenIssuer>();
        var token = PrivacyOfficers.IsOfficer(officerOrPartner)
            ? issuer.IssueForOfficer(officerOrPartner).AccessToken
            : issuer.Issue(PartnerCatalog.Seeded.Find(officerOrPartner)!, officerOrPartner, PartnerCatalog.Seeded.Find(officerOrPartner)!.Purposes).AccessToken;
        return new CallOptions(new Metadata { { "authorization", "Bearer " + token } });
    }

    public SharingPolicyAdmin.SharingPolicyAdminClient Admin => new(_channel);

    public CurrentPolicy GatewayPolicy => Services.GetRequiredService<CurrentPolicy>();

    /// <summary>Stops the processes but keeps the data, for restart tests.</summary>
    public async Task StopAsync()
    {
        _channel.Dispose();
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (ObjectDisposedException)
        {
        }
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
