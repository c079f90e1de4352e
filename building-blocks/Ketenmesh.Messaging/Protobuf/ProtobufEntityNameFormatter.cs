using MassTransit;

namespace Ketenmesh.Messaging.Protobuf;

/// <summary>
/// Names an event's exchange after its protobuf full name, so the broker topology follows the
/// contract and a consumer written in another language binds to the same exchange.
/// </summary>
sealed class ProtobufEntityNameFormatter(IEntityNameFormatter fallback, EventRegistry registry) : IEntityNameFormatter
{
    public string FormatEntityName<T>() =>
        registry.TryGet(typeof(T), out var descriptor) ? descriptor.FullName : fallback.FormatEntityName<T>();
}
