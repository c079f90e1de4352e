namespace Ketenmesh.Messaging.Topology;

/// <summary>
/// Which component publishes which events (protobuf full names), as each declared with
/// <see cref="ChainMessagingBuilder.Publishes(Google.Protobuf.Reflection.FileDescriptor)"/>. A component's
/// outbox refuses an event it did not declare, and its broker user may write to no other event's exchange
/// (<see cref="BrokerGrant"/>), so the declaration is what the component does, not a comment.
/// </summary>
public sealed class Publications
{
    readonly Dictionary<string, SortedSet<string>> _byComponent = new(StringComparer.Ordinal);
    readonly Lock _gate = new();

    public void Add(string component, string eventName)
    {
        lock (_gate)
        {
            if (!_byComponent.TryGetValue(component, out var events))
            {
                _byComponent[component] = events = new SortedSet<string>(StringComparer.Ordinal);
            }

            events.Add(eventName);
        }
    }

    public IReadOnlyCollection<string> Of(string component)
    {
        lock (_gate)
        {
            return _byComponent.TryGetValue(component, out var events) ? events.ToArray() : [];
        }
    }

    public bool Publishes(string component, string eventName)
    {
        lock (_gate)
        {
            return _byComponent.TryGetValue(component, out var events) && events.Contains(eventName);
        }
    }
}
