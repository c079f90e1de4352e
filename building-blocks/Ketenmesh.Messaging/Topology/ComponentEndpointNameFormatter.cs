using MassTransit;

namespace Ketenmesh.Messaging.Topology;

/// <summary>
/// Names each consumer's receive endpoint after the queue its component claimed (<see cref="ConsumerQueues"/>);
/// everything else MassTransit names (temporary endpoints) keeps its kebab-case default.
/// </summary>
sealed class ComponentEndpointNameFormatter(ConsumerQueues queues) : KebabCaseEndpointNameFormatter(includeNamespace: false)
{
    public override string Consumer<T>() => queues.QueueOf(typeof(T));
}
