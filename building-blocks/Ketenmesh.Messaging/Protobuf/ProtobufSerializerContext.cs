using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Google.Protobuf;
using MassTransit;
using MassTransit.Serialization;

namespace Ketenmesh.Messaging.Protobuf;

/// <summary>A received event, already parsed; offers it as its own CLR type and nothing else.</summary>
sealed class ProtobufSerializerContext(MessageContext context, IMessage message, ProtobufMessageSerializer serializer)
    : BaseSerializerContext(SystemTextJsonMessageSerializer.Instance, context, [MessageUrn.ForTypeString(message.GetType())])
{
    public override bool TryGetMessage<T>([NotNullWhen(true)] out T? result)
        where T : class
    {
        result = message as T;
        return result is not null;
    }

    public override bool TryGetMessage(Type messageType, [NotNullWhen(true)] out object? result)
    {
        result = messageType.IsInstanceOfType(message) ? message : null;
        return result is not null;
    }

    // Forwarding (redelivery, scheduling) writes protobuf again, never a JSON copy.
    public override IMessageSerializer GetMessageSerializer() => serializer;

    public override IMessageSerializer GetMessageSerializer<T>(MessageEnvelope envelope, T message) => serializer;

    public override IMessageSerializer GetMessageSerializer(object message, string[] messageTypes) => serializer;

    // Used by MassTransit features that inspect messages as property bags; protobuf's JSON mapping keeps field names stable.
    public override Dictionary<string, object> ToDictionary<T>(T? value)
        where T : class =>
        value is IMessage protobuf
            ? JsonSerializer.Deserialize<Dictionary<string, object>>(JsonFormatter.Default.Format(protobuf), SystemTextJsonMessageSerializer.Options) ?? []
            : [];
}
