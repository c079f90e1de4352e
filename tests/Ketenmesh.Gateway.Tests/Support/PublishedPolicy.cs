using System.Threading.Channels;
using Chain.Policy.V1;
using Grpc.Core;
using Ketenmesh.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>
/// The policy distribution side of the sharing-policy service, serving whatever snapshot a test
/// publishes; the gateway follows it over real gRPC exactly as it follows the real service.
/// </summary>
sealed class PublishedPolicy(PolicySnapshot initial) : PolicyDistribution.PolicyDistributionBase
{
    private readonly object _gate = new();
    private readonly List<Channel<PolicySnapshot>> _watchers = [];

    public PolicySnapshot Current { get; private set; } = initial;

    public void Publish(PolicySnapshot snapshot)
    {
        lock (_gate)
        {
            Current = snapshot;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(snapshot);
            }
        }
    }

    public override Task<GetPolicyResponse> GetPolicy(GetPolicyRequest request, ServerCallContext context) =>
        Task.FromResult(new GetPolicyResponse { Snapshot = Current });

    public override async Task WatchPolicy(WatchPolicyRequest request, IServerStreamWriter<WatchPolicyResponse> responses, ServerCallContext context)
    {
        var channel = Channel.CreateUnbounded<PolicySnapshot>();
        lock (_gate)
        {
            _watchers.Add(channel);
            if (Current.Revision != request.KnownRevision)
            {
                channel.Writer.TryWrite(Current);
            }
        }
        try
        {
            // The gRPC layer ends this token when the host stops, too.
            await foreach (var snapshot in channel.Reader.ReadAllAsync(context.CancellationToken))
            {
                await responses.WriteAsync(new WatchPolicyResponse { Snapshot = snapshot });
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(channel);
            }
        }
    }

    public sealed class Component(PublishedPolicy policy) : IMeshComponent
    {
        public string Name => "policy";

        public int DefaultPort => 8082;

        public void AddServices(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(policy);

        public void MapEndpoints(IEndpointRouteBuilder endpoints)
        {
            endpoints.MapGrpcService<PublishedPolicy>();
        }
    }
}
