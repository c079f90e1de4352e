using System.Diagnostics;
using System.Text.Json;
using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Policy;

namespace Ketenmesh.Gateway.Tests;

/// <summary>Independent gRPC clients (the C core through python3-grpcio, and @grpc/grpc-js) through the gateway.</summary>
public sealed class PeerTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public static TheoryData<string> Peers => ["python", "node"];

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task Peer_receives_a_minimised_unary_answer(string peer)
    {
        const string method = "chain.registry.v1.VictimRegistry/GetRegistration";
        var (code, _, responses) = await CallAsync(peer, "unary", method, [], _mesh.As("care", "victim_care"));

        Assert.Equal(0, code);
        var paths = WireFields.Present(MethodCatalog.Chain.Find(method)!.OutputType, Assert.Single(responses)).Select(p => p.Path).ToList();
        Assert.Contains("registration.status", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("registration.link_keys", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task Peer_reads_a_server_stream_through_the_gateway(string peer)
    {
        var (code, _, responses) = await CallAsync(peer, "server_stream", "chain.shelter.v1.ShelterCapacity/WatchCapacity", [], _mesh.As("shelters", "victim_care"));

        Assert.Equal(0, code);
        Assert.Equal(ContractUpstream.StreamLength, responses.Count);
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public async Task Peer_sees_the_denial_and_its_reason(string peer)
    {
        var (code, details, responses) = await CallAsync(peer, "unary", "chain.risk.v1.RiskAssessment/GetAssessment", [], _mesh.As("care", "victim_care"));

        Assert.Equal((int)StatusCode.PermissionDenied, code);
        Assert.Contains("No grant lets partner 'care'", details);
        Assert.Empty(responses);
    }

    private async Task<(int Code, string Details, List<byte[]> Responses)> CallAsync(string peer, string kind, string method, byte[] request, Dictionary<string, string> metadata)
    {
        var root = Repository.Root;
        var info = peer == "python"
            ? new ProcessStartInfo("/usr/bin/python3") { ArgumentList = { Path.Combine(root, "tests/peers/python/raw_call.py") } }
            : new ProcessStartInfo("node") { ArgumentList = { Path.Combine(root, "tests/peers/node/raw_call.js") } };
        info.WorkingDirectory = Path.Combine(root, "tests/peers");
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        foreach (var argument in new[] { $"127.0.0.1:{_mesh.Gateway.Port}", kind, "/" + method, Convert.ToBase64String(request), JsonSerializer.Serialize(metadata) })
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await error);
        using var json = JsonDocument.Parse(await output);
        var root2 = json.RootElement;
        return (root2.GetProperty("code").GetInt32(), root2.GetProperty("details").GetString()!,
            root2.GetProperty("responses").EnumerateArray().Select(r => Convert.FromBase64String(r.GetString()!)).ToList());
    }
}
