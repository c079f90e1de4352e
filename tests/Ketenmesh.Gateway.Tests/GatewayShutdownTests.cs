using Chain.Signals.V1;
using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Testing;

namespace Ketenmesh.Gateway.Tests;

/// <summary>Stopping the mesh ends streams open through the gateway with a status the partner retries.</summary>
public sealed class GatewayShutdownTests
{
    [Fact]
    public async Task Stopping_the_gateway_ends_an_open_stream_with_unavailable()
    {
        var (mesh, call) = await OpenBatchStreamAsync();
        using var _ = call;

        // The partner keeps the stream open; only the mesh stopping can end it.
        var stopping = mesh.DisposeAsync().AsTask();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        await stopping;

        Assert.True(error.StatusCode == StatusCode.Unavailable, $"expected UNAVAILABLE, got {error.Status}");
        Assert.Contains("shutting down", error.Status.Detail);
    }

    [Fact]
    public async Task A_partner_still_sending_that_reads_late_still_hears_unavailable_when_the_gateway_stops()
    {
        // The partner's side stays open and it reads only a while after the gateway ended the stream: the gateway keeps
        // the connection open for Gateway:StreamEndGrace (2 s), so the status is there to read, and not "the server closed
        // the connection", which .NET's client reports for a connection closed under its open request side.
        var (mesh, call) = await OpenBatchStreamAsync();
        using var _ = call;

        var stopping = mesh.DisposeAsync().AsTask();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(CancellationToken.None));
        await stopping;

        Assert.True(error.StatusCode == StatusCode.Unavailable, $"expected UNAVAILABLE, got {error.Status}");
    }

    /// <summary>An inspectorate's signal batch through the gateway, one signal sent and answered, its request side left open.</summary>
    private static async Task<(GatewayMesh Mesh, AsyncDuplexStreamingCall<SubmitSignalBatchRequest, SubmitSignalBatchResponse> Call)> OpenBatchStreamAsync()
    {
        var mesh = await GatewayMesh.StartAsync();
        var call = mesh.Channel.Intake().SubmitSignalBatch(GatewayMesh.Options(mesh.As("inspectorate", "signalling"), deadline: DateTime.UtcNow.AddMinutes(2)));
        var item = SignalCalls.Request();
        await call.RequestStream.WriteAsync(new SubmitSignalBatchRequest { ClientRequestId = item.ClientRequestId, Observation = item.Observation });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        return (mesh, call);
    }

    [Fact]
    public void A_stream_is_ended_by_the_gateway_stopping_from_the_moment_the_host_stops_before_its_own_callback_runs()
    {
        // In one host a service's stopping callback may run before the call's own (callbacks run one at a time, last
        // registered first) and end the service's side: what the gateway then sees is still the gateway stopping.
        using var host = new CancellationTokenSource();
        using var deadline = new CancellationTokenSource();
        var call = new Ketenmesh.Gateway.Forwarding.PartnerCall("chain.signals.v1.SignalIntake/SubmitSignalBatch", "signalling",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", DateTimeOffset.UnixEpoch, 0, null, deadline, CancellationToken.None)
        {
            Path = "chain.signals.v1.SignalIntake/SubmitSignalBatch",
            DeclaredPurpose = "signalling",
            EndsWithHost = host.Token,
        };
        Status? seenByTheServiceSide = null;
        host.Token.Register(call.Stop);
        host.Token.Register(() => seenByTheServiceSide = call.CutShort());

        host.Cancel();

        Assert.Equal(StatusCode.Unavailable, seenByTheServiceSide?.StatusCode);
        Assert.Contains("shutting down", seenByTheServiceSide?.Detail);
    }
}
