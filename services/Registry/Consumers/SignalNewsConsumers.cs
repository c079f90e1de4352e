using Chain.Events.V1;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Registry.Domain;
using Ketenmesh.Registry.Persistence;
using MassTransit;

namespace Ketenmesh.Registry.Consumers;

/// <summary>What a signal observed: half of what registering it needs.</summary>
public sealed class SignalReceivedConsumer(RegistryDbContext db, Registrations registrations, ILogger<SignalReceivedConsumer> logger)
    : InboxConsumer<RegistryDbContext, SignalReceived>(db, logger)
{
    protected override Task ApplyAsync(SignalReceived @event, ConsumeContext<SignalReceived> consumeContext) =>
        registrations.OnSignalNewsAsync(@event.SignalId, @event, null, consumeContext.CancellationToken);
}

/// <summary>How a signal was assessed: the other half.</summary>
public sealed class RiskAssessedConsumer(RegistryDbContext db, Registrations registrations, ILogger<RiskAssessedConsumer> logger)
    : InboxConsumer<RegistryDbContext, RiskAssessed>(db, logger)
{
    protected override Task ApplyAsync(RiskAssessed @event, ConsumeContext<RiskAssessed> consumeContext) =>
        registrations.OnSignalNewsAsync(@event.SignalId, null, @event, consumeContext.CancellationToken);
}
