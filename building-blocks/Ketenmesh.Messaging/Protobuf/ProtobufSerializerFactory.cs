using System.Net.Mime;
using MassTransit;

namespace Ketenmesh.Messaging.Protobuf;

/// <summary>Registers the protobuf serializer with a bus (AddSerializer/AddDeserializer).</summary>
public sealed class ProtobufSerializerFactory : ISerializerFactory
{
    readonly ProtobufMessageSerializer _serializer;
    readonly ProtobufMessageDeserializer _deserializer;

    public ProtobufSerializerFactory(EventRegistry registry)
    {
        _serializer = new ProtobufMessageSerializer(registry);
        _deserializer = new ProtobufMessageDeserializer(registry, _serializer);
    }

    public ContentType ContentType => ProtobufContent.ContentType;

    public IMessageSerializer CreateSerializer() => _serializer;

    public IMessageDeserializer CreateDeserializer() => _deserializer;
}
