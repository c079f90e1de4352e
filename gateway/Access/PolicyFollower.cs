using Chain.Policy.V1;
using Grpc.Core;
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
public sealed class PolicyFollower(CurrentPolicy current, PolicyDistribution.PolicyDistributionClient client, IOptions<GatewayOptions> options, ILogger<PolicyFollower> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var call = client.WatchPolicy(new WatchPolicyRequest { KnownRevision = current.Value.Revision }, cancellationToken: stoppingToken);
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
                await PollOnceAsync(stoppingToken);
            }
            await Delay(stoppingToken);
        }
    }

    private async Task PollOnceAsync(CancellationToken stoppingToken)
    {
        try
        {
            var response = await client.GetPolicyAsync(new GetPolicyRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: stoppingToken);
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
