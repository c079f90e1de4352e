using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Messaging.Tests.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Messaging.Tests.Chain;

/// <summary>Domain code of the intake service: a signal and its event, committed together.</summary>
static class IntakeDesk
{
    public static async Task<Guid> RecordAsync(IServiceProvider services, string signalId, long number, string partner = "police")
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IntakeDb>();
        var outbox = scope.ServiceProvider.GetRequiredService<EventOutbox<IntakeDb>>();
        var recordedAt = DateTime.UtcNow;
        db.Signals.Add(new Signal { SignalId = signalId, Partner = partner, RecordedAt = recordedAt });
        var messageId = outbox.Add(new SignalRecorded
        {
            SignalId = signalId,
            Number = number,
            Partner = partner,
            RecordedAt = Timestamp.FromDateTime(recordedAt),
        });
        await db.SaveChangesAsync();
        return messageId;
    }
}
