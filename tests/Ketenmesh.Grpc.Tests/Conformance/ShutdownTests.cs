using Grpc.Net.Client;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Grpc.Tests.Support;
using Ketenmesh.Testing.V1;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Conformance;

/// <summary>A stopping server ends its open streams with a status clients retry, instead of holding shutdown hostage.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_server_ends_an_open_stream_with_unavailable_so_the_client_resumes()
    {
        var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);
        // Ten minutes of items: only the server stopping can end this stream early.
        using var stream = new GrpcClient(channel).ServerStreamingCall(Methods.Count, new CountRequest { Count = 6000, Size = 8, IntervalMs = 100 },
            new CallOptions(Deadline: DateTime.UtcNow.AddMinutes(2)));
        Assert.True(await stream.ResponseStream.MoveNext(default));

        var stopping = server.DisposeAsync().AsTask();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.ResponseStream.MoveNext(default))
            {
            }
        });
        await stopping;

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("shutting down", error.Status.Detail);
    }

    [Fact]
    public async Task Stopping_server_lets_a_unary_call_in_flight_finish()
    {
        var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);
        var call = new GrpcClient(channel).UnaryCall(Methods.Echo, new EchoRequest { DelayMs = 500 });
        await Task.Delay(100);

        await server.DisposeAsync();

        Assert.NotNull(await call);
    }

    [Fact]
    public async Task A_call_disposed_twice_or_cancelled_after_disposal_does_not_throw()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);
        var stream = new GrpcClient(channel).ServerStreamingCall(Methods.Count, new CountRequest { Count = 100, Size = 8, IntervalMs = 100 });
        Assert.True(await stream.ResponseStream.MoveNext(default));

        stream.Dispose();
        var again = Record.Exception(stream.Dispose);

        Assert.Null(again);
    }
}
