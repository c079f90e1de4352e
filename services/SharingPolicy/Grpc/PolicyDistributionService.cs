using Chain.Policy.V1;
using Grpc.Core;
using Ketenmesh.SharingPolicy.Domain;

namespace Ketenmesh.SharingPolicy.Grpc;

/// <summary>chain.policy.v1.PolicyDistribution: how gateways learn the published policy (internal; not behind the gateway).</summary>
public sealed class PolicyDistributionService(PublishedPolicies published) : PolicyDistribution.PolicyDistributionBase
{
    public override async Task<GetPolicyResponse> GetPolicy(GetPolicyRequest request, ServerCallContext context) =>
        new() { Snapshot = await published.CurrentAsync(context.CancellationToken) };

    public override async Task WatchPolicy(WatchPolicyRequest request, IServerStreamWriter<WatchPolicyResponse> responses, ServerCallContext context)
    {
        // A watch lasts as long as the gateway; the gRPC layer ends its token when this service stops, too.
        var ended = context.CancellationToken;
        var updates = published.Subscribe(out var unsubscribe);
        try
        {
            var current = await published.CurrentAsync(ended);
            var sent = request.KnownRevision;
            if (current.Revision != sent)
            {
                await responses.WriteAsync(new WatchPolicyResponse { Snapshot = current });
                sent = current.Revision;
            }
            await foreach (var snapshot in updates.ReadAllAsync(ended))
            {
                if (snapshot.Revision > sent)
                {
                    await responses.WriteAsync(new WatchPolicyResponse { Snapshot = snapshot });
                    sent = snapshot.Revision;
                }
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The gateway hung up, or this service is stopping; the gateway reconnects.
        }
        finally
        {
            unsubscribe();
        }
    }
}
