using Grpc.Health.V1;
using Ketenmesh.Gateway.Forwarding;
using Grpc.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Ketenmesh.Hosting.GrpcServer;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Ketenmesh.Gateway.Discovery;

/// <summary>
/// grpc.health.v1 at the gateway. The empty service name is the gateway's readiness (its audit database
/// answers: no audit record, no access) and <c>liveness</c> its liveness; both need no token (probes and
/// load balancers ask them). A named service answers only to a caller that may call it, with the owning
/// service's own health.
/// </summary>
internal sealed class GatewayHealth(VisibleServices visible, ServiceDestinations routes, HealthCheckService own) : Health.HealthBase
{
    public override async Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) =>
        new() { Status = await StatusAsync(request.Service, context) };

    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        ServingStatus? last = null;
        try
        {
            while (!context.CancellationToken.IsCancellationRequested)
            {
                var status = await StatusAsync(request.Service, context);
                if (status != last)
                {
                    await responseStream.WriteAsync(new HealthCheckResponse { Status = status });
                    last = status;
                }
                await Task.Delay(TimeSpan.FromSeconds(2), context.CancellationToken);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The watcher hung up.
        }
    }

    private async Task<ServingStatus> StatusAsync(string service, ServerCallContext context)
    {
        if (service == ProcessHealth.LivenessService)
        {
            return ServingStatus.Serving;
        }
        if (service.Length == 0)
        {
            return await ProcessHealth.IsReadyAsync(own, context.CancellationToken) ? ServingStatus.Serving : ServingStatus.NotServing;
        }
        var descriptor = (await visible.ServicesAsync(context)).FirstOrDefault(s => s.FullName == service)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Health of service '{service}' is unknown here."));
        if (descriptor == VisibleServices.Own)
        {
            return ServingStatus.Serving;
        }
        if (routes.Find(descriptor.Methods[0]) is not { } upstream)
        {
            return ServingStatus.ServiceUnknown;
        }
        try
        {
            var answer = await new Health.HealthClient(routes.Channel(upstream)).CheckAsync(new HealthCheckRequest { Service = service },
                deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: context.CancellationToken);
            return answer.Status;
        }
        catch (RpcException)
        {
            return ServingStatus.NotServing;
        }
    }
}
