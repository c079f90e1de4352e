using Chain.Events.V1;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Returns.Domain;
using Ketenmesh.Returns.Persistence;
using MassTransit;

namespace Ketenmesh.Returns.Consumers;

/// <summary>The IND's residence position from the registry: kept, and a decision lifts the person's D9 suspensions.</summary>
public sealed class ResidenceStatusRecordedConsumer(ReturnsDbContext db, RegistryKnowledge registry, ReturnCases cases, ILogger<ResidenceStatusRecordedConsumer> logger)
    : InboxConsumer<ReturnsDbContext, ResidenceStatusRecorded>(db, logger)
{
    protected override async Task ApplyAsync(ResidenceStatusRecorded @event, ConsumeContext<ResidenceStatusRecorded> consumeContext)
    {
        if (!await registry.RememberResidenceAsync(@event, consumeContext.CancellationToken))
        {
            return; // older than what is known
        }
        var outcome = RegistryKnowledge.OutcomeOf(@event.TemporaryResidenceDecision, @event.ContinuedResidenceDecision, @event.LegalStay);
        await cases.OnResidenceDecisionAsync(@event.RegistrationId, outcome, consumeContext.CancellationToken);
    }
}

/// <summary>Consents from the registry: what decides whether IOM may tell CoMensha about a return.</summary>
public sealed class ConsentChangedConsumer(ReturnsDbContext db, RegistryKnowledge registry, ILogger<ConsentChangedConsumer> logger)
    : InboxConsumer<ReturnsDbContext, ConsentChanged>(db, logger)
{
    protected override Task ApplyAsync(ConsentChanged @event, ConsumeContext<ConsentChanged> consumeContext) =>
        registry.RememberConsentAsync(@event, consumeContext.CancellationToken);
}

/// <summary>
/// The registry merged registrations of one person: the cases and consents known under a merged registration follow
/// the survivor, and so does whatever the chain still says under the merged id. Once per event (inbox); a second
/// copy under another message id finds nothing left to move.
/// </summary>
public sealed class RegistrationsMergedConsumer(ReturnsDbContext db, RegistryKnowledge registry, ReturnCases cases, ILogger<RegistrationsMergedConsumer> logger)
    : InboxConsumer<ReturnsDbContext, RegistrationsMerged>(db, logger)
{
    protected override async Task ApplyAsync(RegistrationsMerged @event, ConsumeContext<RegistrationsMerged> consumeContext)
    {
        var survivor = await registry.RememberMergeAsync(@event, consumeContext.CancellationToken);
        await cases.OnMergedAsync(survivor, @event.MergedRegistrationIds, consumeContext.CancellationToken);
    }
}
