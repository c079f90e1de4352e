using System.Net.Mime;
using System.Runtime.Serialization;
using Google.Protobuf;
using MassTransit;
using MassTransit.Serialization;

namespace Ketenmesh.Messaging.Protobuf;

/// <summary>
/// Reads an event from its bare protobuf bytes, choosing the type by the header's protobuf full name.
/// A body that does not parse throws here, so MassTransit moves it to the error queue untouched.
/// </summary>
public sealed class ProtobufMessageDeserializer(EventRegistry registry, ProtobufMessageSerializer serializer) : IMessageDeserializer
{
    public ContentType ContentType => ProtobufContent.ContentType;

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateScope("protobuf");
        scope.Add("contentType", ContentType.MediaType);
    }

    public ConsumeContext Deserialize(ReceiveContext receiveContext) =>
        new BodyConsumeContext(receiveContext, Deserialize(receiveContext.Body, receiveContext.TransportHeaders, receiveContext.InputAddress));

    public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null)
    {
        var typeName = headers.Get<string>(ProtobufContent.MessageTypeHeader)
            ?? throw new SerializationException($"A {ProtobufContent.MediaType} message lacks the {ProtobufContent.MessageTypeHeader} header.");
        if (!registry.TryGet(typeName, out var descriptor))
        {
            throw new SerializationException($"Event type {typeName} is not registered in this process.");
        }

        IMessage message;
        try
        {
            message = descriptor.Parser.ParseFrom(body.GetBytes());
        }
        catch (InvalidProtocolBufferException exception)
        {
            throw new SerializationException($"The body is not a valid {typeName}.", exception);
        }

        // CopyHeaders: consumers see traceparent and other custom headers, as with the JSON envelope.
        var messageContext = new RawMessageContext(headers, destinationAddress, RawSerializerOptions.CopyHeaders);
        return new ProtobufSerializerContext(messageContext, message, serializer);
    }

    public MessageBody GetMessageBody(string text) => new MemoryMessageBody(Convert.FromBase64String(text));
}
