using Grpc.Net.Client;
using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Grpc.Server;
using Ketenmesh.Grpc.Tests.Support;
using Ketenmesh.Testing.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Conformance;

/// <summary>Lacks Converse and has Count with the wrong shape: must not start.</summary>
public sealed class IncompleteInteropService
{
    public Task<Empty> Empty(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context) => Task.FromResult(new EchoResponse());

    public Task<StreamItem> Count(CountRequest request, ServerCallContext context) => Task.FromResult(new StreamItem());

    public Task<CollectResponse> Collect(IAsyncStreamReader<StreamItem> requestStream, ServerCallContext context) => Task.FromResult(new CollectResponse());

    public Task<WasCancelledResponse> WasCancelled(WasCancelledRequest request, ServerCallContext context) => Task.FromResult(new WasCancelledResponse());
}

/// <summary>What a downstream call saw, recorded by a relay that calls onward with our client.</summary>
public sealed class RelayRecorder
{
    public string? DownstreamTimeout { get; set; }

    public string? DownstreamTraceParent { get; set; }

    public string? UpstreamTraceId { get; set; }

    public Uri? Downstream { get; set; }
}

/// <summary>Relays Echo to another server from inside a served call, the way services call each other.</summary>
public sealed class RelayService(RelayRecorder recorder)
{
    public async Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context)
    {
        recorder.UpstreamTraceId = Activity.Current?.TraceId.ToString();
        using var channel = GrpcChannel.ForAddress(recorder.Downstream!);
        var client = new GrpcClient(channel);
        var headers = new Metadata { { "x-echo-relay", "via-relay" } };
        using var call = client.UnaryCall(Methods.Echo, request, new CallOptions(Headers: headers));
        return await call;
    }

    public Task<Empty> Empty(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public Task Count(CountRequest request, IServerStreamWriter<StreamItem> responseStream, ServerCallContext context) => Task.CompletedTask;

    public Task<CollectResponse> Collect(IAsyncStreamReader<StreamItem> requestStream, ServerCallContext context) => Task.FromResult(new CollectResponse());

    public Task Converse(IAsyncStreamReader<StreamItem> requestStream, IServerStreamWriter<StreamItem> responseStream, ServerCallContext context) => Task.CompletedTask;

    public Task<WasCancelledResponse> WasCancelled(WasCancelledRequest request, ServerCallContext context) => Task.FromResult(new WasCancelledResponse());
}

public sealed class BindingAndPropagationTests
{
    [Fact]
    public async Task Service_class_that_lacks_a_method_fails_at_startup_naming_each_gap()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(
            map: app => app.MapGrpcService<IncompleteInteropService>(Ketenmesh.Testing.V1.InteropReflection.Descriptor.Services[0]),
            mapInteropService: false));
        Assert.Contains("Converse", error.Message);
        Assert.Contains("Count", error.Message);
        Assert.DoesNotContain("Echo:", error.Message);
    }

    [Fact]
    public async Task Configured_receive_limit_is_enforced_as_resource_exhausted()
    {
        await using var server = await TestServer.StartAsync(options: o => o.MaxReceiveMessageSize = 1024);
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new GrpcClient(channel);
        await client.UnaryCall(Methods.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[1000]) });
        var error = await Assert.ThrowsAsync<RpcException>(() => client.UnaryCall(Methods.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[1100]) }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Configured_send_limit_stops_an_oversized_response()
    {
        await using var server = await TestServer.StartAsync(options: o => o.MaxSendMessageSize = 2048);
        using var channel = GrpcChannel.ForAddress(server.Address);
        var error = await Assert.ThrowsAsync<RpcException>(() => new GrpcClient(channel).UnaryCall(Methods.Echo, new EchoRequest { ResponseSize = 4096 }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Client_receive_limit_turns_an_oversized_response_into_resource_exhausted()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 1000 });
        var error = await Assert.ThrowsAsync<RpcException>(() => new GrpcClient(channel).UnaryCall(Methods.Echo, new EchoRequest { ResponseSize = 2000 }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Outgoing_call_inside_a_served_call_inherits_its_deadline_and_trace()
    {
        await using var downstream = await TestServer.StartAsync(map: app => app.Use(async (http, next) =>
        {
            var recorder = Recorder!;
            recorder.DownstreamTimeout = http.Request.Headers["grpc-timeout"];
            recorder.DownstreamTraceParent = http.Request.Headers["traceparent"];
            await next(http);
        }));
        Recorder = new RelayRecorder { Downstream = downstream.Address };
        await using var relay = await StartRelayAsync(Recorder);
        using var channel = GrpcChannel.ForAddress(relay.Address);
        var client = new GrpcClient(channel);

        using var activity = new Activity("partner-call").SetIdFormat(ActivityIdFormat.W3C).Start();
        var response = await client.UnaryCall(Methods.Echo, new EchoRequest { Payload = ByteString.CopyFromUtf8("door") },
            new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(5)));
        activity.Stop();

        Assert.Equal("door", response.Payload.ToStringUtf8());
        Assert.True(Ketenmesh.Grpc.Protocol.GrpcTimeout.TryParse(Recorder.DownstreamTimeout, out var downstreamTimeout), $"no grpc-timeout downstream: '{Recorder.DownstreamTimeout}'");
        Assert.InRange(downstreamTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Assert.Equal(activity.TraceId.ToString(), Recorder.UpstreamTraceId);
        Assert.NotNull(Recorder.DownstreamTraceParent);
        Assert.Contains(activity.TraceId.ToString(), Recorder.DownstreamTraceParent);
    }

    [Fact]
    public async Task Caller_deadline_expiring_downstream_surfaces_as_deadline_exceeded_upstream()
    {
        await using var downstream = await TestServer.StartAsync();
        var recorder = new RelayRecorder { Downstream = downstream.Address };
        await using var relay = await StartRelayAsync(recorder);
        using var channel = GrpcChannel.ForAddress(relay.Address);
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => new GrpcClient(channel).UnaryCall(Methods.Echo,
            new EchoRequest { DelayMs = 10_000 }, new CallOptions(Deadline: DateTime.UtcNow.AddMilliseconds(400))).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Handler_that_ignores_its_deadline_still_ends_the_call_on_time()
    {
        await using var server = await TestServer.StartAsync(map: app => app.MapGrpcService<StubbornService>(Ketenmesh.Testing.V1.InteropReflection.Descriptor.Services[0]),
            configureServices: s => s.AddSingleton<StubbornService>(), mapInteropService: false);
        using var channel = GrpcChannel.ForAddress(server.Address);
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => new GrpcClient(channel).UnaryCall(
            Method<EchoRequest, EchoResponse>.ForPath("/ketenmesh.testing.v1.InteropTestService/Echo"),
            new EchoRequest(), new CallOptions(Deadline: DateTime.UtcNow.AddMilliseconds(300))).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
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
        var client = new GrpcClient(channel);
        for (var i = 0; i < 20; i++)
        {
            await client.UnaryCall(Methods.Empty, new Empty());
        }
        Assert.Single(connections);
    }

    [Fact]
    public async Task Unreachable_server_is_unavailable()
    {
        using var channel = GrpcChannel.ForAddress("http://127.0.0.1:1");
        var error = await Assert.ThrowsAsync<RpcException>(() => new GrpcClient(channel).UnaryCall(Methods.Empty, new Empty()).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    private static RelayRecorder? Recorder { get; set; }

    private static Task<TestServer> StartRelayAsync(RelayRecorder recorder) =>
        TestServer.StartAsync(
            configureServices: s => s.AddSingleton(recorder).AddSingleton<RelayService>(),
            map: app => app.MapGrpcService<RelayService>(Ketenmesh.Testing.V1.InteropReflection.Descriptor.Services[0]),
            mapInteropService: false);
}

/// <summary>Ignores cancellation entirely, like a buggy service might.</summary>
public sealed class StubbornService
{
    public async Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context)
    {
        await Task.Delay(3000, CancellationToken.None);
        return new EchoResponse();
    }

    public Task<Empty> Empty(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public Task Count(CountRequest request, IServerStreamWriter<StreamItem> responseStream, ServerCallContext context) => Task.CompletedTask;

    public Task<CollectResponse> Collect(IAsyncStreamReader<StreamItem> requestStream, ServerCallContext context) => Task.FromResult(new CollectResponse());

    public Task Converse(IAsyncStreamReader<StreamItem> requestStream, IServerStreamWriter<StreamItem> responseStream, ServerCallContext context) => Task.CompletedTask;

    public Task<WasCancelledResponse> WasCancelled(WasCancelledRequest request, ServerCallContext context) => Task.FromResult(new WasCancelledResponse());
}
