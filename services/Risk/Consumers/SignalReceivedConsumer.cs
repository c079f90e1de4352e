using Chain.Events.V1;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Risk.Domain;
using Ketenmesh.Risk.Persistence;
using MassTransit;

namespace Ketenmesh.Risk.Consumers;

/// <summary>Every new signal is assessed once, however often the bus delivers it.</summary>
public sealed class SignalReceivedConsumer(RiskDbContext db, Assessor assessor, ILogger<SignalReceivedConsumer> logger)
    : InboxConsumer<RiskDbContext, SignalReceived>(db, logger)
{
    protected override Task ApplyAsync(SignalReceived @event, ConsumeContext<SignalReceived> consumeContext) =>
        assessor.AssessNewAsync(@event, consumeContext.CancellationToken);
}
