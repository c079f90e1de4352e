using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Health.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Ketenmesh.Grpc.Health;

/// <summary>
/// Serving status per service name ("" is the whole server), as the gRPC health protocol defines;
/// probes in k8s and load balancers read it through <c>grpc.health.v1.Health</c>.
/// </summary>
public sealed class HealthStatusRegistry
{
    /// <summary>
    /// The process is alive (Kubernetes' livenessProbe asks for it): SERVING until shutdown whatever its
    /// dependencies do, so a database outage makes the component unready, never restarted for nothing.
    /// </summary>
    public const string LivenessService = "liveness";

    private readonly ConcurrentDictionary<string, ServingStatus> _statuses = new()
    {
        [string.Empty] = ServingStatus.Serving,
        [LivenessService] = ServingStatus.Serving,
    };

    /// <summary>Every service name with a status, liveness included.</summary>
    public IReadOnlyCollection<string> Services => _statuses.Keys.ToList();
    private readonly ConcurrentDictionary<Channel<ServingStatus>, string> _watchers = new();

    internal bool FollowsRegistry { get; set; }

    public void SetStatus(string service, ServingStatus status)
    {
        _statuses[service] = status;
        foreach (var (channel, watched) in _watchers)
        {
            if (watched == service)
            {
                channel.Writer.TryWrite(status);
            }
        }
    }

    /// <summary>Marks everything NOT_SERVING, e.g. while the host drains on shutdown.</summary>
    public void SetAllNotServing()
    {
        foreach (var service in _statuses.Keys)
        {
            SetStatus(service, ServingStatus.NotServing);
        }
    }

    public ServingStatus? GetStatus(string service) => _statuses.TryGetValue(service, out var status) ? status : null;

    internal Channel<ServingStatus> Watch(string service)
    {
        var channel = Channel.CreateBounded<ServingStatus>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        _watchers[channel] = service;
        channel.Writer.TryWrite(GetStatus(service) ?? ServingStatus.ServiceUnknown);
        return channel;
    }

    internal void StopWatching(Channel<ServingStatus> channel) => _watchers.TryRemove(channel, out _);
}
