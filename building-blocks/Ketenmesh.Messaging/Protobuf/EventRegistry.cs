using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Ketenmesh.Messaging.Protobuf;

/// <summary>
/// The events this process may publish or receive, by protobuf full name. The wire carries only
/// that name, so it is the contract; the generated CLR class is a local detail.
/// </summary>
public sealed class EventRegistry
{
    readonly ConcurrentDictionary<string, MessageDescriptor> _byName = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<Type, MessageDescriptor> _byType = new();

    public IReadOnlyCollection<MessageDescriptor> Events => _byName.Values.ToArray();

    public EventRegistry Add(MessageDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var clrType = descriptor.ClrType
            ?? throw new ArgumentException($"{descriptor.FullName} has no generated class; only compiled messages can be events.", nameof(descriptor));

        var stored = _byName.GetOrAdd(descriptor.FullName, descriptor);
        if (stored.ClrType != clrType)
        {
            throw new InvalidOperationException(
                $"Event {descriptor.FullName} is registered for both {stored.ClrType} and {clrType}; two generated copies of one contract would deserialize inconsistently.");
        }

        _byType.TryAdd(clrType, descriptor);
        return this;
    }

    /// <summary>Every top-level message of a .proto file, e.g. <c>ChainEventsReflection.Descriptor</c>.</summary>
    public EventRegistry AddFile(FileDescriptor file)
    {
        ArgumentNullException.ThrowIfNull(file);
        foreach (var message in file.MessageTypes)
        {
            Add(message);
        }

        return this;
    }

    public bool TryGet(string fullName, out MessageDescriptor descriptor) => _byName.TryGetValue(fullName, out descriptor!);

    public bool TryGet(Type clrType, out MessageDescriptor descriptor) => _byType.TryGetValue(clrType, out descriptor!);

    /// <summary>Fails where the event is produced, not later in the dispatcher where nobody sees it.</summary>
    public MessageDescriptor Require(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return TryGet(message.Descriptor.FullName, out var descriptor)
            ? descriptor
            : throw new InvalidOperationException(
                $"Event {message.Descriptor.FullName} is not registered; add its file with AddChainMessaging(...).AddEvents(...).");
    }
}
