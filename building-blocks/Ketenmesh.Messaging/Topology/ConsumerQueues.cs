using System.Text.RegularExpressions;
using MassTransit;

namespace Ketenmesh.Messaging.Topology;

/// <summary>
/// Which component consumes on which queue, for every consumer registered in this process. A queue is
/// named <c>{component}.{event}</c> (<c>registry.signal-received</c>), so two components that consume the
/// same event each get their own queue and so their own copy, whatever the deployment configures.
/// A second claim on a queue by anything but the same consumer refuses the registration, so a process
/// that would share a queue with another consumer never starts.
/// </summary>
public sealed partial class ConsumerQueues
{
    readonly Dictionary<Type, string> _queueByConsumer = [];
    readonly Dictionary<string, (string Component, Type Consumer)> _claims = new(StringComparer.Ordinal);
    readonly Lock _gate = new();

    /// <summary>Every queue claimed in this process, with its component and consumer.</summary>
    public IReadOnlyDictionary<string, (string Component, Type Consumer)> Claims
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, (string, Type)>(_claims, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>The queue <typeparamref name="TConsumer"/> takes for <paramref name="component"/>, claimed for it.</summary>
    /// <exception cref="InvalidOperationException">The queue is already claimed by another component or consumer.</exception>
    public string Claim<TConsumer>(string component)
        where TConsumer : class, IConsumer
    {
        var queue = QueueName(component, typeof(TConsumer));
        lock (_gate)
        {
            if (_claims.TryGetValue(queue, out var holder) && holder.Consumer != typeof(TConsumer))
            {
                throw new InvalidOperationException(
                    $"{typeof(TConsumer).FullName} of component '{component}' would consume from queue '{queue}', which {holder.Consumer.FullName} of component '{holder.Component}' already consumes from. " +
                    "A queue has one consumer, or each would see only part of the events; give the component one consumer per event.");
            }

            if (_queueByConsumer.TryGetValue(typeof(TConsumer), out var other) && other != queue)
            {
                throw new InvalidOperationException(
                    $"{typeof(TConsumer).FullName} is registered for queue '{other}' and '{queue}'; a consumer class belongs to one component.");
            }

            _claims[queue] = (component, typeof(TConsumer));
            _queueByConsumer[typeof(TConsumer)] = queue;
        }

        return queue;
    }

    /// <summary>The claimed queue of a consumer; a consumer registered without a component has none.</summary>
    public string QueueOf(Type consumer)
    {
        lock (_gate)
        {
            return _queueByConsumer.TryGetValue(consumer, out var queue)
                ? queue
                : throw new InvalidOperationException($"{consumer.FullName} was registered without a component; add it through AddChainMessaging(configuration, component).AddConsumer<T>().");
        }
    }

    /// <summary><c>{component}.{event}</c>: the event a consumer consumes, or its class name when it consumes several.</summary>
    public static string QueueName(string component, Type consumer)
    {
        ValidateComponent(component);
        var events = consumer.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>))
            .Select(i => i.GetGenericArguments()[0])
            .ToList();
        var subject = events.Count == 1 ? events[0].Name : StripSuffix(consumer.Name, "Consumer");
        return $"{component}.{Kebab(subject)}";
    }

    /// <summary>Component names are the first part of a queue name; a dot or a capital would make two components' queues ambiguous.</summary>
    public static void ValidateComponent(string component)
    {
        if (!ComponentName().IsMatch(component))
        {
            throw new ArgumentException($"'{component}' is not a component name: lower-case letters, digits and dashes, starting with a letter.", nameof(component));
        }
    }

    static string StripSuffix(string name, string suffix) =>
        name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal) ? name[..^suffix.Length] : name;

    static string Kebab(string name) => Words().Replace(name, "$1-$2").ToLowerInvariant();

    [GeneratedRegex("^[a-z][a-z0-9-]*$")]
    private static partial Regex ComponentName();

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex Words();
}
