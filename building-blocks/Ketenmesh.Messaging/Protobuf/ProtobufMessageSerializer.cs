using System.Runtime.Serialization;
using System.Net.Mime;
using Google.Protobuf;
using MassTransit;
using MassTransit.Serialization;

namespace Ketenmesh.Messaging.Protobuf;

/// <summary>Writes an event as its bare protobuf bytes; everything else travels in transport headers.</summary>
public sealed class ProtobufMessageSerializer(EventRegistry registry) : RawMessageSerializer, IMessageSerializer
{
    public ContentType ContentType => ProtobufContent.ContentType;

    public MessageBody GetMessageBody<T>(SendContext<T> context)
        where T : class
    {
        if (context.Message is not IMessage message)
        {
            throw new SerializationException($"{typeof(T).Name} is not a protobuf message and cannot be sent as {ProtobufContent.MediaType}.");
        }

        var descriptor = registry.Require(message);

        // No envelope in the body, so message id, correlation id and addresses become headers
        // (traceparent is already one); without this a consumer could not deduplicate.
        SetRawMessageHeaders(context);
        context.Headers.Set(ProtobufContent.MessageTypeHeader, descriptor.FullName);
        return new ProtobufMessageBody(message);
    }
}
