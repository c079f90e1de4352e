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
        var mesh = await GatewayMesh.StartAsync();
        using var call = mesh.Channel.Intake().SubmitSignalBatch(GatewayMesh.Options(mesh.As("inspectorate", "signalling"), deadline: DateTime.UtcNow.AddMinutes(2)));
        var item = SignalCalls.Request();
        await call.RequestStream.WriteAsync(new SubmitSignalBatchRequest { ClientRequestId = item.ClientRequestId, Observation = item.Observation });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        // The partner keeps the stream open; only the mesh stopping can end it.
        var stopping = mesh.DisposeAsync().AsTask();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        await stopping;

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("shutting down", error.Status.Detail);
    }
}
