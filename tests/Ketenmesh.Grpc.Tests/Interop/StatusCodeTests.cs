using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Grpc.Tests.Support;
using Ketenmesh.Testing.V1;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Interop;

/// <summary>Every status code the protocol defines survives the trip, whichever side is ours.</summary>
public sealed class StatusCodeTests(TestServerFixture ours, PythonServerFixture python, NodeServerFixture node)
    : IClassFixture<TestServerFixture>, IClassFixture<PythonServerFixture>, IClassFixture<NodeServerFixture>
{
    public static TheoryData<int> ErrorCodes()
    {
        var data = new TheoryData<int>();
        for (var code = 1; code <= 16; code++)
        {
            data.Add(code);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ErrorCodes))]
    public async Task Our_server_sends_each_code_and_the_c_core_client_reads_it(int code)
    {
        var observed = await Peer.Python.RunClientAsync(ours.Server.HostPort, $"status:{code}");
        Assert.Equal(code, observed["code"]!.GetValue<int>());
        Assert.Equal($"status {code} für Zoë", observed["message"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(ErrorCodes))]
    public async Task Our_server_sends_each_code_and_the_grpc_js_client_reads_it(int code)
    {
        var observed = await Peer.Node.RunClientAsync(ours.Server.HostPort, $"status:{code}");
        Assert.Equal(code, observed["code"]!.GetValue<int>());
        Assert.Equal($"status {code} für Zoë", observed["message"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(ErrorCodes))]
    public async Task Our_client_reads_each_code_from_every_server(int code)
    {
        foreach (var address in new[] { ours.Server.Address, python.Server.Address, node.Server.Address })
        {
            using var channel = GrpcChannel.ForAddress(address);
            var error = await Assert.ThrowsAsync<RpcException>(() => channel.Interop().EchoAsync(
                new EchoRequest { Status = new StatusToReturn { Code = code, Message = $"status {code} für Zoë" } }).ResponseAsync);
            Assert.Equal((StatusCode)code, error.StatusCode);
            Assert.Equal($"status {code} für Zoë", error.Status.Detail);
        }
    }
}
