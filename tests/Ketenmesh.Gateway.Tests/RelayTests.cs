using Chain.Signals.V1;
using Google.Protobuf;
using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Testing;

namespace Ketenmesh.Gateway.Tests;

/// <summary>The relay itself: streams are passed on message by message, and deadlines, cancellation and failures cross it.</summary>
public sealed class RelayTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(settings: new()
    {
        // Nothing listens on port 9 (discard) on loopback here: the registry is "down".
        [GatewayComponent.DestinationKey("registry")] = "http://127.0.0.1:9",
    });

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task A_watch_gets_its_headers_at_once_though_its_first_message_may_be_hours_away()
    {
        // WatchMySignals answers with headers only until a signal changes: the gateway must pass them on, not hold them.
        using var watch = _mesh.Channel.Intake().WatchMySignals(new Chain.Signals.V1.WatchMySignalsRequest(), GatewayMesh.Options(_mesh.As("police", "signalling")));
        var headers = await watch.ResponseHeadersAsync.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(headers);
    }

    [Fact]
    public async Task Bulk_submission_streams_both_ways_one_message_at_a_time()
    {
        using var call = _mesh.Channel.Intake().SubmitSignalBatch(GatewayMesh.Options(_mesh.As("inspectorate", "signalling")));
        for (var i = 1; i <= 3; i++)
        {
            var item = SignalCalls.Request();
            await call.RequestStream.WriteAsync(new SubmitSignalBatchRequest { ClientRequestId = item.ClientRequestId, Observation = item.Observation });
            // The answer to this item arrives before the next is sent: nothing waits for the whole stream.
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(i, call.ResponseStream.Current.ItemsAccepted);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Deadline_crosses_the_gateway_and_cancels_the_service_call()
    {
        var metadata = _mesh.As("police", "criminal_investigation");
        // A first call warms the token validator (discovery, JWKS), so the deadline is spent upstream.
        await _mesh.Raw.CallAsync("chain.risk.v1.RiskAssessment/GetAssessment", [[]], metadata);
        metadata["x-test-delay-ms"] = "10000";
        var options = GatewayMesh.Options(metadata, deadline: DateTime.UtcNow.AddMilliseconds(1500));
        var started = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _mesh.Channel.Risk().GetAssessmentAsync(new Chain.Risk.V1.GetAssessmentRequest(), options).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
        var (_, headers) = _mesh.Upstream.Calls.Last();
        Assert.True(headers.ContainsKey("grpc-timeout"), "the service was not told the deadline");
        await WaitUntilAsync(() => _mesh.Upstream.Cancelled.Count == 1);
    }

    [Fact]
    public async Task Caller_cancelling_cancels_the_service_call()
    {
        var metadata = _mesh.As("police", "criminal_investigation");
        metadata["x-test-delay-ms"] = "10000";
        using var cancel = new CancellationTokenSource();
        var call = _mesh.Channel.Risk().GetAssessmentAsync(new Chain.Risk.V1.GetAssessmentRequest(), GatewayMesh.Options(metadata).WithCancellationToken(cancel.Token));
        await WaitUntilAsync(() => !_mesh.Upstream.Calls.IsEmpty);

        cancel.Cancel();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await WaitUntilAsync(() => _mesh.Upstream.Cancelled.Count == 1);
        Assert.Equal("chain.risk.v1.RiskAssessment/GetAssessment", Assert.Single(_mesh.Upstream.Cancelled));
    }

    [Fact]
    public async Task Service_that_is_down_gives_unavailable_after_an_allowed_decision()
    {
        var result = await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [[]], _mesh.As("police", "criminal_investigation"));

        Assert.Equal((int)StatusCode.Unavailable, result.Status);
        Assert.Contains("chain.registry.v1 is not reachable", result.Message);
        Assert.Equal(Ketenmesh.Audit.AuditDecision.Allowed, Assert.Single(await _mesh.AuditAsync()).Decision);
    }

    [Fact]
    public async Task Service_errors_reach_the_caller_with_their_details()
    {
        var result = await _mesh.Raw.CallAsync("chain.signals.v1.SignalIntake/SubmitSignal", [new SubmitSignalRequest().ToByteArray()], _mesh.As("police", "signalling"));

        Assert.Equal((int)StatusCode.InvalidArgument, result.Status);
        Assert.Contains("not valid", result.Message);
        Assert.True(result.Headers.Contains("grpc-status-details-bin"), "the field violations were lost");
    }

    [Fact]
    public async Task Response_headers_and_trailers_of_the_service_reach_the_caller()
    {
        var metadata = _mesh.As("police", "criminal_investigation");
        metadata["x-correlation"] = "c-1";
        var result = await _mesh.Raw.CallAsync("chain.risk.v1.RiskAssessment/GetAssessment", [[]], metadata);

        Assert.Equal((int)StatusCode.OK, result.Status);
        Assert.Equal("kept", Assert.Single(result.Trailers.GetValues("echo-trailer")));
        Assert.Equal("c-1", Assert.Single(result.Headers.GetValues("echo-x-correlation")));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.True(condition(), "the condition did not hold within 10 s");
    }
}
