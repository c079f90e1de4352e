using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Grpc.Tests.Support;
using Ketenmesh.Testing.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using InteropClient = Ketenmesh.Testing.V1.InteropTestService.InteropTestServiceClient;
using InteropServiceBase = Ketenmesh.Testing.V1.InteropTestService.InteropTestServiceBase;

namespace Ketenmesh.Grpc.Tests.Conformance;

/// <summary>What a downstream call saw, recorded by a relay that calls onward.</summary>
public sealed class RelayRecorder
{
    public string? DownstreamTimeout { get; set; }

    public string? DownstreamTraceParent { get; set; }

    public string? UpstreamTraceId { get; set; }
}

/// <summary>
/// Relays Echo to another server from inside a served call, with a client from grpc-dotnet's client factory
/// that propagates the served call's deadline and cancellation (EnableCallContextPropagation).
/// </summary>
public sealed class RelayService(RelayRecorder recorder, InteropClient downstream) : InteropServiceBase
{
    public override async Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context)
    {
        recorder.UpstreamTraceId = Activity.Current?.TraceId.ToString();
        return await downstream.EchoAsync(request, new Metadata { { "x-echo-relay", "via-relay" } });
    }
}

/// <summary>Ignores cancellation entirely, like a buggy service might; overrides only Echo.</summary>
public sealed class StubbornService : InteropServiceBase
{
    public override async Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context)
    {
        await Task.Delay(3000, CancellationToken.None);
        return new EchoResponse();
    }
}

public sealed class BindingAndPropagationTests
{
    [Fact]
    public async Task Method_the_service_does_not_implement_is_unimplemented()
    {
        // grpc-dotnet binds a service through its generated base; a method it does not override answers UNIMPLEMENTED.
        await using var server = await TestServer.StartAsync(map: app => app.MapGrpcService<StubbornService>(), mapInteropService: false);
        using var channel = GrpcChannel.ForAddress(server.Address);
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.Interop().EmptyAsync(new Empty()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public async Task Configured_receive_limit_is_enforced_as_resource_exhausted()
    {
        // Set the way a component sets it: the Grpc configuration section that AddChainGrpc binds.
        await using var server = await TestServer.StartAsync(settings: new Dictionary<string, string?> { ["Grpc:MaxReceiveMessageSize"] = "1024" });
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = channel.Interop();
        await client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[1000]) });
        var error = await Assert.ThrowsAsync<RpcException>(() => client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[1100]) }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Configured_send_limit_stops_an_oversized_response()
    {
        await using var server = await TestServer.StartAsync(settings: new Dictionary<string, string?> { ["Grpc:MaxSendMessageSize"] = "2048" });
        using var channel = GrpcChannel.ForAddress(server.Address);
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.Interop().EchoAsync(new EchoRequest { ResponseSize = 4096 }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Client_receive_limit_turns_an_oversized_response_into_resource_exhausted()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 1000 });
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.Interop().EchoAsync(new EchoRequest { ResponseSize = 2000 }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Outgoing_call_inside_a_served_call_inherits_its_deadline_and_trace()
    {
        var recorder = new RelayRecorder();
        await using var downstream = await TestServer.StartAsync(map: app => app.Use(async (http, next) =>
        {
            recorder.DownstreamTimeout = http.Request.Headers["grpc-timeout"];
            recorder.DownstreamTraceParent = http.Request.Headers["traceparent"];
            await next(http);
        }));
        await using var relay = await StartRelayAsync(recorder, downstream.Address);
        using var channel = GrpcChannel.ForAddress(relay.Address);

        // The partner's trace, sent as traceparent by our client: the relay's handler runs in it and passes it on.
        using var listener = ListenToAllActivities();
        using var activity = new Activity("partner-call").SetIdFormat(ActivityIdFormat.W3C).Start();
        var response = await channel.Interop().EchoAsync(new EchoRequest { Payload = ByteString.CopyFromUtf8("door") },
            Clients.Within(TimeSpan.FromSeconds(5)));
        activity.Stop();

        Assert.Equal("door", response.Payload.ToStringUtf8());
        Assert.True(TryParseTimeout(recorder.DownstreamTimeout, out var downstreamTimeout), $"no grpc-timeout downstream: '{recorder.DownstreamTimeout}'");
        Assert.InRange(downstreamTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Assert.Equal(activity.TraceId.ToString(), recorder.UpstreamTraceId);
        Assert.NotNull(recorder.DownstreamTraceParent);
        Assert.Contains(activity.TraceId.ToString(), recorder.DownstreamTraceParent);
    }

    [Fact]
    public async Task Caller_deadline_expiring_downstream_surfaces_as_deadline_exceeded_upstream()
    {
        await using var downstream = await TestServer.StartAsync();
        await using var relay = await StartRelayAsync(new RelayRecorder(), downstream.Address);
        using var channel = GrpcChannel.ForAddress(relay.Address);
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.Interop().EchoAsync(
            new EchoRequest { DelayMs = 10_000 }, Clients.Within(TimeSpan.FromMilliseconds(400))).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Handler_that_ignores_its_deadline_still_ends_the_call_on_time()
    {
        await using var server = await TestServer.StartAsync(map: app => app.MapGrpcService<StubbornService>(), mapInteropService: false);
        // A raw call with grpc-timeout and no deadline of the client's own: only the server can end it at 300 ms.
        using var raw = new RawHttp2(server.Address);
        var watch = Stopwatch.StartNew();
        var response = await raw.PostAsync("/ketenmesh.testing.v1.InteropTestService/Echo", RawHttp2.Frame(new EchoRequest()), headers: ("grpc-timeout", "300m"));
        Assert.Equal((int)StatusCode.DeadlineExceeded, response.GrpcStatus);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Calls_on_one_channel_share_a_connection()
    {
        var connections = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>();
        await using var server = await TestServer.StartAsync(map: app => app.Use(async (http, next) =>
        {
            connections[http.Connection.Id] = 0;
            await next(http);
        }));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = channel.Interop();
        for (var i = 0; i < 20; i++)
        {
            await client.EmptyAsync(new Empty());
        }
        Assert.Single(connections);
    }

    [Fact]
    public async Task Unreachable_server_is_unavailable()
    {
        using var channel = GrpcChannel.ForAddress("http://127.0.0.1:1");
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.Interop().EmptyAsync(new Empty()).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    private static Task<TestServer> StartRelayAsync(RelayRecorder recorder, Uri downstream) =>
        TestServer.StartAsync(
            configureServices: s =>
            {
                s.AddSingleton(recorder);
                s.AddGrpcClient<InteropClient>(o => o.Address = downstream).EnableCallContextPropagation();
            },
            map: app => app.MapGrpcService<RelayService>(),
            mapInteropService: false);

    /// <summary>
    /// ASP.NET Core starts a request's activity (continuing the caller's traceparent) only when someone listens;
    /// in the mesh that is OpenTelemetry (AddChainTelemetry). This stands in for it.
    /// </summary>
    private static ActivityListener ListenToAllActivities()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    /// <summary>grpc-timeout: at most 8 digits and a unit (PROTOCOL-HTTP2.md, Timeout).</summary>
    private static bool TryParseTimeout(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (value is null || value.Length is < 2 or > 9 || !long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }
        timeout = value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromMicroseconds(amount),
            'n' => TimeSpan.FromTicks(amount / 100),
            _ => TimeSpan.MinValue,
        };
        return timeout != TimeSpan.MinValue;
    }
}
