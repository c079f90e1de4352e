using Chain.Policy.V1;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Policy;
using Ketenmesh.Policy.Decisions;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Access;

/// <summary>
/// Keeps <see cref="CurrentPolicy"/> equal to the published policy: it watches the policy service
/// (a publication arrives as it happens) and, while the watch is broken, asks again every second.
/// The last policy received stays in force while the policy service is away; before the first one,
/// the gateway denies everything.
/// </summary>
public sealed class PolicyFollower(CurrentPolicy current, IOptions<GatewayOptions> options, ILogger<PolicyFollower> logger) : BackgroundService
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Distribution =
        PolicyReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("PolicyDistribution");

    private static readonly Method<WatchPolicyRequest, WatchPolicyResponse> Watch =
        Method<WatchPolicyRequest, WatchPolicyResponse>.From(Distribution.FindMethodByName("WatchPolicy"));

    private static readonly Method<GetPolicyRequest, GetPolicyResponse> Get =
        Method<GetPolicyRequest, GetPolicyResponse>.From(Distribution.FindMethodByName("GetPolicy"));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var channel = GrpcChannel.ForAddress(options.Value.PolicyAddress);
        var client = new GrpcClient(channel);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var call = client.ServerStreamingCall(Watch, new WatchPolicyRequest { KnownRevision = current.Value.Revision }, new CallOptions(CancellationToken: stoppingToken));
                while (await call.ResponseStream.MoveNext(stoppingToken))
                {
                    Apply(call.ResponseStream.Current.Snapshot);
                    failures = 0;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e)
            {
                if (failures++ % 30 == 0)
                {
                    logger.LogWarning("Cannot follow the sharing policy at {Address}: {Status}. Revision {Revision} stays in force.", options.Value.PolicyAddress, e.Status.StatusCode, current.Value.Revision);
                }
                await PollOnceAsync(client, stoppingToken);
            }
            await Delay(stoppingToken);
        }
    }

    private async Task PollOnceAsync(GrpcClient client, CancellationToken stoppingToken)
    {
        try
        {
            var response = await client.UnaryCall(Get, new GetPolicyRequest(), new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(2), CancellationToken: stoppingToken));
            Apply(response.Snapshot);
        }
        catch (RpcException)
        {
            // Still away; the watch loop tries again.
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Apply(PolicySnapshot? snapshot)
    {
        if (snapshot is null || snapshot.Revision == current.Value.Revision && snapshot.Revision != 0)
        {
            return;
        }
        current.Replace(new AccessPolicy(snapshot, MethodCatalog.Chain));
        logger.LogInformation("Enforcing sharing policy revision {Revision} ({Grants} grants).", snapshot.Revision, snapshot.Grants.Count);
    }

    private static async Task Delay(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
