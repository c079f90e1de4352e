using System.Buffers.Binary;
using Chain.Signals.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Testing;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// One partner leaning on the gateway, or sending what is not quite gRPC: many streams at once, a huge header,
/// a length prefix that lies, a body that stalls. Each ends with a status, and other partners are served meanwhile.
/// </summary>
public sealed class LoadAttackTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Five_hundred_open_streams_from_one_partner_leave_the_gateway_serving_others()
    {
        const int streams = 500;
        var metadata = _mesh.As("police", "signalling");
        // The stand-in holds each watch open (no message yet) until the caller goes away.
        metadata["x-test-delay-ms"] = "600000";
        using var attacker = GrpcChannel.ForAddress(_mesh.Gateway);
        using var stop = new CancellationTokenSource();
        var calls = Enumerable.Range(0, streams)
            .Select(_ => attacker.Intake().WatchMySignals(new WatchMySignalsRequest(), GatewayMesh.Options(metadata).WithCancellationToken(stop.Token)))
            .ToList();
        var endings = calls.Select(async call =>
        {
            try
            {
                await call.ResponseStream.MoveNext(CancellationToken.None);
                return call.GetStatus().StatusCode;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }).ToList();
        try
        {
            // Each either reached the service and is open there, or was turned away with a status: none hangs at the gateway.
            await Eventually.SucceedsAsync(() =>
            {
                var ended = endings.Count(e => e.IsCompleted);
                Assert.Equal(streams, Watches() + ended);
                return Task.CompletedTask;
            }, TimeSpan.FromSeconds(60));
            Assert.All(endings.Where(e => e.IsCompleted), e => Assert.Equal(StatusCode.ResourceExhausted, e.Result));

            await _mesh.AssertOthersServedAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            stop.Cancel();
        }
        var statuses = await Task.WhenAll(endings).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(statuses, s => Assert.True(s is StatusCode.Cancelled or StatusCode.ResourceExhausted, $"a stream ended {s}"));
        // Cleaned up at the service too: every open watch heard its caller leave.
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(Watches(), _mesh.Upstream.Cancelled.Count(m => m == Attacks.WatchMySignals));
            return Task.CompletedTask;
        });
        Assert.Equal(Watches(), (await _mesh.AuditAsync()).Count(e => e.Method == Attacks.WatchMySignals && e.Decision == AuditDecision.Allowed));
    }

    [Fact]
    public async Task Idle_connections_beyond_the_limit_are_closed_at_once_and_the_partners_already_connected_are_served()
    {
        // Care is connected before the flood, as a partner's system keeps its channel open.
        using var care = new RawGrpc(_mesh.Gateway);
        var metadata = _mesh.As("care", "victim_care");
        Assert.Equal((int)StatusCode.OK, (await care.CallAsync(Attacks.GetRegistration, [[]], metadata)).Status);
        var limit = new Ketenmesh.Gateway.GatewayComponent().DefaultMaxConnections;

        // Idle connections that send nothing, more than the gateway holds (20,000 of them once used up the process's
        // file descriptors, and it died).
        var flood = new List<System.Net.Sockets.Socket>();
        try
        {
            for (var i = 0; i < limit + 20; i++)
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                flood.Add(socket);
                await socket.ConnectAsync(System.Net.IPAddress.Loopback, _mesh.Gateway.Port);
            }

            Assert.True(await ClosedByTheServerAsync(flood[^1], TimeSpan.FromSeconds(30)), "a connection beyond the limit was held open");
            var during = await care.CallAsync(Attacks.GetRegistration, [[]], metadata);
            Assert.True(during.Status == (int)StatusCode.OK, $"care, connected before the flood, got {during.Status} '{during.Message}'");
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }
        // Once the flood lets go, a new connection is served again (the gateway counts the closed ones down as it sees them go).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await _mesh.AssertOthersServedAsync();
                break;
            }
            catch (Exception e) when (e is Xunit.Sdk.XunitException or HttpRequestException or IOException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>True when the server closes the connection (end of stream or reset) before <paramref name="within"/>.</summary>
    private static async Task<bool> ClosedByTheServerAsync(System.Net.Sockets.Socket socket, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            return await socket.ReceiveAsync(new byte[64], System.Net.Sockets.SocketFlags.None, timeout.Token) == 0;
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Sixty_four_kib_of_metadata_is_refused_by_the_http2_layer_and_the_gateway_serves_the_next_call()
    {
        var metadata = _mesh.As("police", "signalling");
        metadata["x-padding"] = new string('a', 64 * 1024);
        using var channel = GrpcChannel.ForAddress(_mesh.Gateway);

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.Intake().ListMySignalsAsync(new ListMySignalsRequest(), GatewayMesh.Options(metadata)).ResponseAsync);

        // Kestrel's header limit (32 KiB) ends it before any gateway step: the client sees its connection closed
        // (COMPRESSION_ERROR), or, once it knows the server's limit, refuses to send; either way INTERNAL.
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Empty(_mesh.Upstream.Targets);
        Assert.Empty(await _mesh.AuditAsync());
        metadata.Remove("x-padding");
        var next = await channel.Intake().ListMySignalsAsync(new ListMySignalsRequest(), GatewayMesh.Options(metadata, DateTime.UtcNow.AddSeconds(5)));
        Assert.NotNull(next);
        await _mesh.AssertOthersServedAsync();
    }

    [Fact]
    public async Task A_length_prefix_of_100_mb_is_resource_exhausted_before_anything_is_forwarded()
    {
        var result = await _mesh.Raw.SendAsync(Attacks.ListMySignals, new ByteArrayContent(LyingFrame()), _mesh.As("police", "signalling"));

        await _mesh.AssertRefusedAsync(result, StatusCode.ResourceExhausted, Attacks.ListMySignals);
        Assert.Contains("exceeds the maximum message size", result.Message);
    }

    [Fact]
    public async Task A_length_prefix_of_100_mb_in_a_client_stream_is_resource_exhausted_and_on_record()
    {
        var result = await _mesh.Raw.SendAsync(Attacks.SubmitSignalBatch, new ByteArrayContent(LyingFrame()), _mesh.As("police", "signalling"));

        // A client stream is forwarded as it comes, so the service saw the call open; no message reached it.
        Assert.Equal((int)StatusCode.ResourceExhausted, result.Status);
        Assert.Contains("exceeds the maximum message size", result.Message);
        Assert.Empty(result.Messages);
        var entries = await _mesh.AuditAsync();
        Assert.Equal([AuditDecision.Allowed, AuditDecision.Denied], entries.Select(e => e.Decision));
        Assert.StartsWith("ResourceExhausted: ", entries[1].Reason);
        await _mesh.AssertOthersServedAsync();
    }

    [Fact]
    public async Task A_stalled_request_body_ends_deadline_exceeded_on_record_without_holding_up_others()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var call = await StallAsync(Attacks.ListMySignals, deadline: "2S");

        await _mesh.AssertOthersServedAsync();
        var result = await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((int)StatusCode.DeadlineExceeded, result.Status);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(6));
        Assert.DoesNotContain("/" + Attacks.ListMySignals, _mesh.Upstream.Targets);
        var refusal = (await _mesh.AuditAsync()).Single(e => e.Method == Attacks.ListMySignals);
        Assert.Equal(AuditDecision.Denied, refusal.Decision);
        Assert.StartsWith("DeadlineExceeded: ", refusal.Reason);
    }

    [Fact]
    public async Task A_stalled_request_body_without_a_deadline_is_cut_off_by_the_minimum_data_rate_and_never_forwarded()
    {
        var call = await StallAsync(Attacks.ListMySignals, deadline: null);

        // Kestrel's grace period is 5 s at its 240 bytes/s minimum; over HTTP/2 it then drops the stalling
        // connection. Without the limit this would wait for ever.
        await Assert.ThrowsAsync<HttpRequestException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.DoesNotContain("/" + Attacks.ListMySignals, _mesh.Upstream.Targets);
        Assert.DoesNotContain(await _mesh.AuditAsync(), e => e.Method == Attacks.ListMySignals && e.Decision == AuditDecision.Allowed);
        await _mesh.AssertOthersServedAsync();
    }

    [Fact]
    public async Task A_stalled_client_stream_ends_deadline_exceeded_without_blocking_other_calls()
    {
        var call = await StallAsync(Attacks.SubmitSignalBatch, deadline: "2S");

        await _mesh.AssertOthersServedAsync();
        await _mesh.AssertOthersServedAsync();
        var result = await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((int)StatusCode.DeadlineExceeded, result.Status);
        Assert.Empty(result.Messages);
        // Allowed and on record when it opened; what ended it is the deadline, not a refusal.
        Assert.Contains(await _mesh.AuditAsync(), e => e.Method == Attacks.SubmitSignalBatch && e.Decision == AuditDecision.Allowed);
    }

    /// <summary>Starts a police call that sends half a frame and then nothing; returns once those bytes are out.</summary>
    private async Task<Task<RawCallResult>> StallAsync(string method, string? deadline)
    {
        var stalled = new StalledContent(HalfAFrame, CancellationToken.None);
        var metadata = _mesh.As("police", "signalling");
        if (deadline is not null)
        {
            metadata["grpc-timeout"] = deadline;
        }
        var call = _mesh.Raw.SendAsync(method, stalled, metadata);
        await stalled.Sent.WaitAsync(TimeSpan.FromSeconds(10));
        return call;
    }

    private int Watches() => _mesh.Upstream.Calls.Count(c => c.Method == Attacks.WatchMySignals);

    /// <summary>A frame header declaring 100 MB, then ten bytes.</summary>
    private static byte[] LyingFrame()
    {
        var frame = new byte[5 + 10];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), 100 * 1024 * 1024);
        return frame;
    }

    /// <summary>A frame header declaring ten bytes, then three of them.</summary>
    private static readonly byte[] HalfAFrame = [0, 0, 0, 0, 10, 1, 2, 3];
}
