using System.Diagnostics;
using System.Diagnostics.Metrics;
using MassTransit;

namespace Ketenmesh.Messaging;

/// <summary>W3C trace context across the outbox, where the publishing thread is long gone.</summary>
static class MessagingTracing
{
    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";

    public static readonly ActivitySource Source = new("Ketenmesh.Messaging");

    static readonly Meter Meter = new("Ketenmesh.Messaging");

    /// <summary>From commit to the broker's confirm: how far the outbox runs behind the state it announces.</summary>
    public static readonly Histogram<double> OutboxLag = Meter.CreateHistogram<double>(
        "ketenmesh.outbox.lag", "s", "Time from an event's commit to the broker's publisher confirm");

    /// <summary>From publish to applied: how far a consumer runs behind its events.</summary>
    public static readonly Histogram<double> ConsumerLag = Meter.CreateHistogram<double>(
        "ketenmesh.consumer.lag", "s", "Time from an event's publish to its consumer having applied it");

    /// <summary>
    /// Makes the trace of a received message current while its handler runs, so the events the handler
    /// writes to the outbox carry the same trace id. When MassTransit already started a consume span
    /// (a tracer listens) that span is used; otherwise a local, unexported Activity carries the context.
    /// </summary>
    public static Activity? ContinueReceived(ConsumeContext context)
    {
        if (Activity.Current is not null)
        {
            return null;
        }

        var traceParent = context.Headers.Get<string>(TraceParentHeader);
        if (traceParent is null || !ActivityContext.TryParse(traceParent, context.Headers.Get<string>(TraceStateHeader), out _))
        {
            return null;
        }

        var activity = new Activity("inbox apply").SetParentId(traceParent);
        activity.TraceStateString = context.Headers.Get<string>(TraceStateHeader);
        return activity.Start();
    }

    /// <summary>A producer span for a dispatched outbox row, child of the trace that wrote the row; null when nobody listens.</summary>
    public static Activity? StartDispatch(string messageType, string? traceParent, string? traceState)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(traceParent, traceState, out var parent);
        return Source.StartActivity($"{messageType} publish", ActivityKind.Producer, parent);
    }
}
