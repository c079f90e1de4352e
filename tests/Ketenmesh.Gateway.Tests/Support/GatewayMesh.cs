using Ketenmesh.Testing;
using Chain.Common.V1;
using Chain.Policy.V1;
using Ketenmesh.Gateway.Access;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Hosting;
using Ketenmesh.Identity;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Policy;
using Ketenmesh.Policy.Seed;
using Ketenmesh.Registry;
using Ketenmesh.Risk;
using Ketenmesh.Signals;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>
/// Identity, signal intake, the policy distribution and the gateway in one process, each on its own
/// loopback port and talking over real HTTP/2; the services not built yet are a <see cref="ContractUpstream"/>.
/// </summary>
sealed class GatewayMesh : IAsyncDisposable
{
    private readonly MeshApplication _mesh;
    private readonly string _directory;
    private readonly GrpcChannel _channel;
    private readonly IReadOnlyDictionary<string, string?> _configuration;

    /// <summary>Where a component of this mesh listens (signals, identity…), reached directly, not through the gateway.</summary>
    public Uri AddressOf(string component) => new($"http://127.0.0.1:{_configuration[$"Components:{component}:Service:Port"]}");

    private GatewayMesh(MeshApplication mesh, string directory, Uri gateway, ContractUpstream upstream, PublishedPolicy policy, IReadOnlyDictionary<string, string?> configuration)
    {
        _configuration = configuration;
        _mesh = mesh;
        _directory = directory;
        Gateway = gateway;
        Upstream = upstream;
        Policy = policy;
        _channel = GrpcChannel.ForAddress(gateway);
        Raw = new RawGrpc(gateway);
    }

    public Uri Gateway { get; }

    /// <summary>Where the components keep their files, the gateway's audit database (gateway.db) among them.</summary>
    public string DataDirectory => _directory;

    public ContractUpstream Upstream { get; }

    public PublishedPolicy Policy { get; }

    public GrpcChannel Channel => _channel;

    public RawGrpc Raw { get; }

    public IServiceProvider Services => _mesh.App.Services;

    /// <param name="allToContractUpstream">Signal intake too is answered by the contract upstream (leakage and matrix tests).</param>
    /// <param name="withChainFlow">Run the real risk assessment and victim registry behind the gateway instead of the contract stand-in.</param>
    public static async Task<GatewayMesh> StartAsync(PolicySnapshot? policy = null, Dictionary<string, string?>? settings = null, bool allToContractUpstream = false, bool withChainFlow = false)
    {
        var directory = Directory.CreateTempSubdirectory("ketenmesh-gateway-").FullName;
        var upstream = await ContractUpstream.StartAsync();
        int identity = FreePorts.Next(), signals = FreePorts.Next(), policyPort = FreePorts.Next(), gateway = FreePorts.Next(), risk = FreePorts.Next(), registry = FreePorts.Next();
        var configuration = new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = directory,
            ["Components:identity:Service:Port"] = identity.ToString(),
            ["Components:signals:Service:Port"] = signals.ToString(),
            ["Components:policy:Service:Port"] = policyPort.ToString(),
            ["Components:gateway:Service:Port"] = gateway.ToString(),
            ["Identity:Issuer"] = $"http://127.0.0.1:{identity}",
            ["Gateway:Authority"] = $"http://127.0.0.1:{identity}",
            ["Gateway:PolicyAddress"] = $"http://127.0.0.1:{policyPort}",
            [GatewayComponent.DestinationKey("signals")] = allToContractUpstream ? upstream.Address.ToString() : $"http://127.0.0.1:{signals}",
            ["Components:registry:Service:Port"] = registry.ToString(),
            [GatewayComponent.DestinationKey("registry")] = withChainFlow ? $"http://127.0.0.1:{registry}" : upstream.Address.ToString(),
            ["Components:risk:Service:Port"] = risk.ToString(),
            [GatewayComponent.DestinationKey("risk")] = withChainFlow ? $"http://127.0.0.1:{risk}" : upstream.Address.ToString(),
            [GatewayComponent.DestinationKey("shelter")] = upstream.Address.ToString(),
            [GatewayComponent.DestinationKey("returns")] = upstream.Address.ToString(),
        };
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }
        var published = new PublishedPolicy(policy ?? DefaultPolicy.Snapshot(DateTimeOffset.UtcNow));
        IMeshComponent[] components = withChainFlow
            ? [new IdentityComponent(), new SignalsComponent(), new RiskComponent(), new RegistryComponent(), new PublishedPolicy.Component(published), new GatewayComponent()]
            : [new IdentityComponent(), new SignalsComponent(), new PublishedPolicy.Component(published), new GatewayComponent()];
        var mesh = MeshHost.BuildEmbedded(
            components,
            [],
            c => c.AddInMemoryCollection(configuration));
        await mesh.App.StartAsync();
        // A test may pin the gateway's port (services it started elsewhere believe the gateway there).
        var result = new GatewayMesh(mesh, directory, new Uri($"http://127.0.0.1:{configuration["Components:gateway:Service:Port"]}"), upstream, published, configuration);
        await result.WaitForPolicyAsync(published.Current.Revision);
        return result;
    }

    /// <summary>Waits until the gateway enforces <paramref name="revision"/>; returns how long that took.</summary>
    /// <summary>Reserves the gateway's port in a real profile: its services learn the gateway's address from the profile when they start.</summary>
    public static int ReservePort(RealProfile profile)
    {
        var port = FreePorts.Next();
        profile.Addresses["gateway"] = new Uri($"http://127.0.0.1:{port}");
        return port;
    }

    /// <summary>The gateway in front of real-profile services, over mutual TLS with the profile's data directory, as the deployment runs it.</summary>
    public static Task<GatewayMesh> InFrontOfAsync(RealProfile profile, int port, params (string Component, ComponentHost Host)[] services)
    {
        var settings = services.ToDictionary(s => GatewayComponent.DestinationKey(s.Component), s => (string?)s.Host.Address.ToString());
        settings["Components:gateway:Service:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:MutualTls"] = "true";
        settings["Mesh:DataDirectory"] = profile.DataDirectory;
        return StartAsync(settings: settings);
    }

    public async Task<TimeSpan> WaitForPolicyAsync(long revision, TimeSpan? timeout = null)
    {
        var current = Services.GetRequiredService<CurrentPolicy>();
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (current.Value.Revision != revision && started.Elapsed < (timeout ?? TimeSpan.FromSeconds(10)))
        {
            await Task.Delay(5);
        }
        return started.Elapsed;
    }

    /// <summary>The gateway's audit log as committed to its database, in chain order.</summary>
    public async Task<List<Ketenmesh.Audit.AuditEntry>> AuditAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var reader = scope.ServiceProvider.GetRequiredService<Ketenmesh.Audit.Reading.AuditReader>();
        return (await reader.RangeAsync(1, 10_000)).Select(e => e.Entry).ToList();
    }

    /// <summary>The calls' own decisions, in order: the audit log without the records of persons their answers named.</summary>
    public async Task<List<Ketenmesh.Audit.AuditEntry>> DecisionsAsync() =>
        (await AuditAsync()).Where(e => e.Reason != Ketenmesh.Gateway.Forwarding.MinimisedResponse.PersonFound).ToList();

    /// <summary>The audit records committed after <paramref name="sequence"/>, in chain order.</summary>
    public async Task<IReadOnlyList<Ketenmesh.Audit.StoredAuditEntry>> AuditAfterAsync(long sequence)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Ketenmesh.Audit.Reading.AuditReader>().RangeAsync(sequence + 1, 100);
    }

    /// <summary>An access token as the identity service issues it, for a seeded partner.</summary>
    public string Token(string partnerId, params Purpose[] purposes)
    {
        var partner = PartnerCatalog.Seeded.Find(partnerId) ?? throw new ArgumentException($"No seeded partner '{partnerId}'.");
        var issuer = Services.GetRequiredService<AccessTokenIssuer>();
        return issuer.Issue(partner, partnerId, purposes.Length == 0 ? partner.Purposes : purposes.ToHashSet()).AccessToken;
    }

    /// <summary>Metadata of a privacy officer's call.</summary>
    public Dictionary<string, string> AsOfficer(string officerId = "privacy-officer-1") =>
        new() { ["authorization"] = "Bearer " + Services.GetRequiredService<AccessTokenIssuer>().IssueForOfficer(officerId).AccessToken };

    /// <summary>Metadata of a partner's call: its token and the purpose it declares.</summary>
    public Dictionary<string, string> As(string partnerId, string? purpose, params Purpose[] tokenPurposes)
    {
        var metadata = new Dictionary<string, string> { ["authorization"] = "Bearer " + Token(partnerId, tokenPurposes) };
        if (purpose is not null)
        {
            metadata["x-purpose"] = purpose;
        }
        return metadata;
    }

    public static CallOptions Options(Dictionary<string, string> metadata, DateTime? deadline = null)
    {
        var headers = new Metadata();
        foreach (var (key, value) in metadata)
        {
            headers.Add(key, value);
        }
        return new CallOptions(headers, deadline);
    }

    public async ValueTask DisposeAsync()
    {
        // Stopped before its clients: a call still open hears how the mesh ended it, not that its channel went away.
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
        Raw.Dispose();
        _channel.Dispose();
        await Upstream.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
