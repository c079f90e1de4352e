using Ketenmesh.Grpc.Tests.Support;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Interop;

/// <summary>Our server answers our own client: the baseline every other pairing is held to.</summary>
public sealed class OurClientAgainstOurServer(TestServerFixture fixture) : IClassFixture<TestServerFixture>
{
    [Theory]
    [MemberData(nameof(Scenarios.All), MemberType = typeof(Scenarios))]
    public async Task Scenario_behaves_as_the_protocol_says(string scenario) =>
        Scenarios.Verify(scenario, await Scenarios.RunWithOurClientAsync(scenario, fixture.Server.Address));

    [Fact]
    public async Task Gzip_request_is_seen_compressed_by_the_server()
    {
        var observed = await Scenarios.RunWithOurClientAsync("gzip", fixture.Server.Address);
        Assert.Equal("gzip", observed["request_encoding"]!.GetValue<string>());
    }
}

/// <summary>Python's C-core gRPC client calls our server.</summary>
public sealed class PythonClientAgainstOurServer(TestServerFixture fixture) : IClassFixture<TestServerFixture>
{
    [Theory]
    [MemberData(nameof(Scenarios.All), MemberType = typeof(Scenarios))]
    public async Task Scenario_behaves_as_the_protocol_says(string scenario) =>
        Scenarios.Verify(scenario, await Peer.Python.RunClientAsync(fixture.Server.HostPort, scenario));

    [Fact]
    public async Task Gzip_request_from_the_c_core_is_decompressed_by_our_server()
    {
        var observed = await Peer.Python.RunClientAsync(fixture.Server.HostPort, "gzip");
        Assert.Equal("gzip", observed["request_encoding"]!.GetValue<string>());
    }
}

/// <summary>grpc-js (Node) calls our server.</summary>
public sealed class NodeClientAgainstOurServer(TestServerFixture fixture) : IClassFixture<TestServerFixture>
{
    [Theory]
    [MemberData(nameof(Scenarios.All), MemberType = typeof(Scenarios))]
    public async Task Scenario_behaves_as_the_protocol_says(string scenario) =>
        Scenarios.Verify(scenario, await Peer.Node.RunClientAsync(fixture.Server.HostPort, scenario));

    [Fact]
    public async Task Gzip_request_from_grpc_js_is_decompressed_by_our_server()
    {
        var observed = await Peer.Node.RunClientAsync(fixture.Server.HostPort, "gzip");
        Assert.Equal("gzip", observed["request_encoding"]!.GetValue<string>());
    }
}

/// <summary>An independent gRPC server process, started once for a test class.</summary>
public abstract class PeerServerFixture(Peer peer) : IAsyncLifetime
{
    public PeerServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await peer.StartServerAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class PythonServerFixture() : PeerServerFixture(Peer.Python);

public sealed class NodeServerFixture() : PeerServerFixture(Peer.Node);

/// <summary>Our client calls python's C-core gRPC server.</summary>
public sealed class OurClientAgainstPythonServer(PythonServerFixture fixture) : IClassFixture<PythonServerFixture>
{
    [Theory]
    [MemberData(nameof(Scenarios.All), MemberType = typeof(Scenarios))]
    public async Task Scenario_behaves_as_the_protocol_says(string scenario) =>
        Scenarios.Verify(scenario, await Scenarios.RunWithOurClientAsync(scenario, fixture.Server.Address));
}

/// <summary>Our client calls a grpc-js server.</summary>
public sealed class OurClientAgainstNodeServer(NodeServerFixture fixture) : IClassFixture<NodeServerFixture>
{
    [Theory]
    [MemberData(nameof(Scenarios.All), MemberType = typeof(Scenarios))]
    public async Task Scenario_behaves_as_the_protocol_says(string scenario) =>
        Scenarios.Verify(scenario, await Scenarios.RunWithOurClientAsync(scenario, fixture.Server.Address));
}
