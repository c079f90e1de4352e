using Google.Protobuf;
using Ketenmesh.Messaging.Protobuf;
using Ketenmesh.Messaging.Tests.Chain;
using Ketenmesh.Messaging.Tests.Events;
using MassTransit;
using MassTransit.Context;

namespace Ketenmesh.Messaging.Tests;

public sealed class ProtobufSerializerTests
{
    static readonly EventRegistry Events = new EventRegistry().AddFile(TestEventsReflection.Descriptor);

    [Fact]
    public void Round_trip_keeps_the_event_and_its_headers_and_the_body_is_the_bare_protobuf()
    {
        var factory = new ProtobufSerializerFactory(Events);
        var signal = new SignalRecorded { SignalId = "sig-1", Number = 7, Partner = "inspectorate", RecordedAt = Timestamps.Now() };
        var messageId = NewId.NextGuid();
        var correlationId = Guid.NewGuid();
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        var send = new MessageSendContext<SignalRecorded>(signal, CancellationToken.None)
        {
            MessageId = messageId,
            CorrelationId = correlationId,
        };
        send.Headers.Set("traceparent", traceParent);

        var body = factory.CreateSerializer().GetMessageBody(send);

        // The wire carries exactly what protoc's encoder writes: no JSON, no envelope.
        Assert.Equal(signal.ToByteArray(), body.GetBytes());
        Assert.Equal("application/x-protobuf", factory.ContentType.MediaType);
        Assert.Equal("ketenmesh.testing.v1.SignalRecorded", send.Headers.Get<string>(ProtobufContent.MessageTypeHeader));

        // The transport hands the send headers over as-is; the deserializer sees nothing else.
        var received = factory.CreateDeserializer().Deserialize(body, send.Headers, new Uri("loopback://localhost/registry"));

        Assert.True(received.TryGetMessage<SignalRecorded>(out var copy));
        Assert.Equal(signal, copy);
        Assert.Equal(messageId, received.MessageId);
        Assert.Equal(correlationId, received.CorrelationId);
        Assert.Equal(traceParent, received.Headers.Get<string>("traceparent"));
        Assert.True(received.IsSupportedMessageType<SignalRecorded>());
        Assert.False(received.IsSupportedMessageType<VictimRegistered>());
        Assert.False(received.TryGetMessage<VictimRegistered>(out _));
    }

    [Fact]
    public void A_body_that_is_not_the_named_event_is_rejected_as_a_serialization_error()
    {
        var deserializer = new ProtobufSerializerFactory(Events).CreateDeserializer();
        var headers = new MassTransit.Serialization.DictionarySendHeaders();
        headers.Set(ProtobufContent.MessageTypeHeader, "ketenmesh.testing.v1.SignalRecorded");

        Assert.ThrowsAny<System.Runtime.Serialization.SerializationException>(() =>
            deserializer.Deserialize(new MassTransit.Serialization.MemoryMessageBody(new byte[] { 0xFF, 0xFF, 0xFF }), headers));

        headers.Set(ProtobufContent.MessageTypeHeader, "ketenmesh.testing.v1.Unknown");
        Assert.ThrowsAny<System.Runtime.Serialization.SerializationException>(() =>
            deserializer.Deserialize(new MassTransit.Serialization.MemoryMessageBody(new SignalRecorded().ToByteArray()), headers));
    }

    [Fact]
    public void An_unregistered_event_is_refused_where_it_is_produced()
    {
        var empty = new EventRegistry();
        Assert.Throws<InvalidOperationException>(() => empty.Require(new SignalRecorded()));
    }
}
