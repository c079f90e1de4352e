using Grpc.Health.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Ketenmesh.Grpc.Health;

/// <summary>The standard <c>grpc.health.v1.Health</c> service.</summary>
internal sealed class HealthService(HealthStatusRegistry registry)
{
    public Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        var status = registry.GetStatus(request.Service)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Health of service '{request.Service}' is unknown here."));
        return Task.FromResult(new HealthCheckResponse { Status = status });
    }

    /// <summary>Sends the current status, then every change, until the watcher hangs up.</summary>
    public async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        var channel = registry.Watch(request.Service);
        try
        {
            ServingStatus? last = null;
            await foreach (var status in channel.Reader.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                if (status != last)
                {
                    await responseStream.WriteAsync(new HealthCheckResponse { Status = status }).ConfigureAwait(false);
                    last = status;
                }
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The watcher hung up or its deadline passed; nothing more to say.
        }
        finally
        {
            registry.StopWatching(channel);
        }
    }
}
