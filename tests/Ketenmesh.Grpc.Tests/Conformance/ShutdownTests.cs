using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Ketenmesh.Grpc.Tests.Support;
using Ketenmesh.Testing.V1;
using Xunit;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Ketenmesh.Grpc.Tests.Conformance;

/// <summary>What callers see when a component stops.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_server_ends_an_open_stream_with_unavailable_so_the_client_resumes()
    {
        var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);
        // Ten minutes of items: only the server stopping can end this stream early.
        using var stream = channel.Interop().Count(new CountRequest { Count = 6000, Size = 8, IntervalMs = 100 },
            Clients.Within(TimeSpan.FromMinutes(2)));
        Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));

        var watch = Stopwatch.StartNew();
        var stopping = server.DisposeAsync().AsTask();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        await stopping;

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        // The stream ends as the host begins to stop (StreamsEndAtShutdown), not when the shutdown timeout
        // runs out and Kestrel drops the connection.
        Assert.Contains("shutting down", error.Status.Detail, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TestServer.ShutdownTimeout, $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Stopping_server_lets_a_unary_call_in_flight_finish()
    {
        var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = channel.Interop();
        var probe = Guid.NewGuid().ToString("N");
        using var call = client.EchoAsync(new EchoRequest { DelayMs = 500, ProbeId = probe });
        // Stop only once the handler is running, so the call is truly in flight.
        for (var attempt = 0; attempt < 250 && !(await client.WasCancelledAsync(new WasCancelledRequest { ProbeId = probe })).Seen; attempt++)
        {
            await Task.Delay(20);
        }

        await server.DisposeAsync();

        Assert.NotNull(await call);
    }

    [Fact]
    public async Task Stopping_server_tells_health_watchers_not_serving_and_ends_their_watch()
    {
        var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);
        using var watch = new Health.HealthClient(channel.Bounded()).Watch(new HealthCheckRequest());
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);

        var stopping = server.DisposeAsync().AsTask();
        var seen = new List<ServingStatus>();
        while (await watch.ResponseStream.MoveNext(CancellationToken.None))
        {
            seen.Add(watch.ResponseStream.Current.Status);
        }
        await stopping;

        // Grpc.AspNetCore.HealthChecks ends a watch on shutdown (so it does not hold the host) with NOT_SERVING last.
        Assert.NotEmpty(seen);
        Assert.Equal(ServingStatus.NotServing, seen[^1]);
        Assert.Equal(StatusCode.OK, watch.GetStatus().StatusCode);
    }
}
