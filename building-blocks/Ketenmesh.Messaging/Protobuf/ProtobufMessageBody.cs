using Google.Protobuf;
using MassTransit;

namespace Ketenmesh.Messaging.Protobuf;

/// <summary>The raw protobuf bytes of an event, encoded once however often the transport asks.</summary>
sealed class ProtobufMessageBody(IMessage message) : MessageBody
{
    byte[]? _bytes;

    public long? Length => GetBytes().Length;

    public Stream GetStream() => new MemoryStream(GetBytes(), writable: false);

    public byte[] GetBytes() => _bytes ??= message.ToByteArray();

    // Only transports that carry text ask for this; base64 is what ProtobufMessageDeserializer.GetMessageBody reads back.
    public string GetString() => Convert.ToBase64String(GetBytes());
}
