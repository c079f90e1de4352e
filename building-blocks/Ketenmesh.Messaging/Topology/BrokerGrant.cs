using System.Text;
using System.Text.RegularExpressions;
using Ketenmesh.Messaging.Protobuf;
using Ketenmesh.Messaging.Recovery;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Messaging.Topology;

/// <summary>
/// What one component's RabbitMQ user may do in its virtual host: the configure, write and read
/// regexes of <c>rabbitmqctl set_permissions</c>, derived from what the component declares (the events
/// it <see cref="ChainMessagingBuilder.Publishes(Google.Protobuf.Reflection.FileDescriptor)"/>, its consumers'
/// queues) and from how MassTransit and <see cref="UnroutedEvents"/> name what they declare:
/// <list type="bullet">
/// <item>each event's exchange, named by its protobuf full name; the publisher and every consumer declare
/// it (configure), with <see cref="EventTopology.UnroutedEvents"/> as alternate exchange (which needs read
/// on the exchange and write on the alternate); only the publisher may write to it; consumers read it to
/// bind their endpoint behind it;</item>
/// <item>each consumer's endpoint, <c>{component}.{event}</c>: a queue and a fanout exchange of that name,
/// and <c>_error</c> (failed and dead-lettered messages) and <c>_skipped</c> (no consumer for the type) beside them;</item>
/// <item><see cref="EventTopology.UnroutedEvents"/>, exchange and queue, which every component declares and binds.</item>
/// </list>
/// Nothing else: no other component's queues, no exchange of an event it does not publish to write to,
/// no administration. Regexes are anchored; RabbitMQ would otherwise match anywhere in a name.
/// </summary>
public sealed partial record BrokerGrant(string Component, string Configure, string Write, string Read)
{
    /// <summary>Suffixes of the entities MassTransit puts beside a receive endpoint.</summary>
    public static readonly IReadOnlyList<string> EndpointSuffixes = ["_error", "_skipped"];

    /// <summary>The grant of <paramref name="component"/> as registered in <paramref name="services"/>; null when it has no bus.</summary>
    public static BrokerGrant? Of(IServiceCollection services, string component)
    {
        var events = Instance<EventRegistry>(services);
        var queues = Instance<ConsumerQueues>(services);
        var publications = Instance<Publications>(services);
        if (events is null || queues is null || publications is null)
        {
            return null;
        }

        var published = publications.Of(component);
        var endpoints = queues.Claims.Where(c => c.Value.Component == component).Select(c => c.Key).ToList();
        var consumed = queues.Claims.Where(c => c.Value.Component == component)
            .SelectMany(c => ConsumedEvents(c.Value.Consumer))
            .Select(type => events.TryGet(type, out var descriptor)
                ? descriptor.FullName
                : throw new InvalidOperationException($"{component} consumes {type.FullName}, which is not a registered event; its exchange name and so its permission are unknown."))
            .ToList();
        return For(component, published, endpoints, consumed);
    }

    /// <param name="published">Event exchanges the component publishes to.</param>
    /// <param name="endpoints">Its consumers' queues (each also an exchange of the same name).</param>
    /// <param name="consumed">Event exchanges its endpoints are bound behind.</param>
    public static BrokerGrant For(string component, IEnumerable<string> published, IEnumerable<string> endpoints, IEnumerable<string> consumed)
    {
        var own = endpoints.ToList();
        string[] shared = [EventTopology.UnroutedEvents];
        var publishes = published.ToList();
        var consumes = consumed.ToList();
        return new BrokerGrant(
            component,
            Configure: Pattern(shared.Concat(publishes).Concat(consumes), own),
            Write: Pattern(shared.Concat(publishes), own),
            Read: Pattern(shared.Concat(publishes).Concat(consumes), own));
    }

    /// <summary>Whether <paramref name="permission"/> (one of the three regexes) covers the resource <paramref name="name"/>, as RabbitMQ matches it.</summary>
    public static bool Allows(string permission, string name) => Regex.IsMatch(name, permission);

    /// <summary>
    /// One anchored alternation: names grouped by what precedes their last dot
    /// (<c>chain\.events\.v1\.(RiskAssessed|SignalReceived)</c>), endpoints with their suffixes optional.
    /// </summary>
    static string Pattern(IEnumerable<string> names, IReadOnlyCollection<string> endpoints)
    {
        var parts = Grouped(names.Distinct(StringComparer.Ordinal), suffix: "").ToList();
        if (endpoints.Count > 0)
        {
            parts.AddRange(Grouped(endpoints.Distinct(StringComparer.Ordinal), $"({string.Join('|', EndpointSuffixes.Select(Regex.Escape))})?"));
        }

        parts.Sort(StringComparer.Ordinal);
        return $"^({string.Join('|', parts)})$";
    }

    static IEnumerable<string> Grouped(IEnumerable<string> names, string suffix) =>
        names.GroupBy(n => n.LastIndexOf('.') is var dot and > 0 ? n[..dot] : "", StringComparer.Ordinal)
            .Select(group =>
            {
                var tails = group.Select(n => group.Key.Length == 0 ? n : n[(group.Key.Length + 1)..]).Order(StringComparer.Ordinal).Select(Regex.Escape).ToList();
                var prefix = new StringBuilder();
                if (group.Key.Length > 0)
                {
                    prefix.Append(Regex.Escape(group.Key)).Append(@"\.");
                }

                return prefix.Append(tails.Count == 1 ? tails[0] : $"({string.Join('|', tails)})").Append(suffix).ToString();
            });

    static IEnumerable<Type> ConsumedEvents(Type consumer) =>
        consumer.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>))
            .Select(i => i.GetGenericArguments()[0]);

    static T? Instance<T>(IServiceCollection services)
        where T : class =>
        services.LastOrDefault(d => d.ServiceType == typeof(T))?.ImplementationInstance as T;
}
