using System.Net.Mime;

namespace Ketenmesh.Messaging.Protobuf;

/// <summary>How a protobuf event is labelled on the wire.</summary>
public static class ProtobufContent
{
    public const string MediaType = "application/x-protobuf";

    /// <summary>
    /// The protobuf full name (<c>chain.events.v1.SignalReceived</c>). A header, because the body is
    /// the bare message bytes with no envelope; same name as the convention other protobuf-over-HTTP
    /// stacks use, so non-.NET consumers recognise it.
    /// </summary>
    public const string MessageTypeHeader = "X-Protobuf-Message";

    public static readonly ContentType ContentType = new(MediaType);
}
