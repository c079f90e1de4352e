using Chain.Events.V1;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Shelter.Domain;
using Ketenmesh.Shelter.Persistence;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Shelter.Consumers;

/// <summary>
/// Keeps the projection of the registry's admission facts: the newest version wins, whatever order they arrive in.
/// Once they are stored, the registration's COSM requests that wait are decided on them (<see cref="Placements.ReconsiderAsync"/>):
/// facts usually arrive after the request that needs them.
/// </summary>
public sealed class AdmissionFactsConsumer(ShelterDbContext db, Placements placements, TimeProvider clock, ILogger<AdmissionFactsConsumer> logger)
    : InboxConsumer<ShelterDbContext, RegistrationAdmissionFacts>(db, logger)
{
    protected override async Task ApplyAsync(RegistrationAdmissionFacts @event, ConsumeContext<RegistrationAdmissionFacts> consumeContext)
    {
        var row = await Context.AdmissionFacts.FirstOrDefaultAsync(f => f.RegistrationId == @event.RegistrationId, consumeContext.CancellationToken);
        if (row is null)
        {
            row = new AdmissionFactsRow { RegistrationId = @event.RegistrationId };
            Context.AdmissionFacts.Add(row);
        }
        else if (row.Version >= @event.Version)
        {
            return;
        }
        row.Version = @event.Version;
        row.Minor = @event.Minor;
        row.DutchNational = @event.DutchNational;
        row.InReflectionPeriod = @event.InReflectionPeriod;
        row.AangifteMade = @event.AangifteMade;
        // "Not earlier in an asylum procedure": once recorded, a later legal stay does not undo it.
        row.AsylumProcedure |= @event.AsylumProcedure;
        row.Closed = @event.Closed;
        // From when the closure was learnt: the retention that lets late older facts find it closed (ShelterPurge).
        row.ClosedAt = @event.Closed ? row.ClosedAt ?? PlacementRow.Moment(clock.GetUtcNow()) : null;
    }

    /// <summary>After the facts are committed, in a capacity change of its own (the capacity turn is never taken inside the inbox's transaction).</summary>
    protected override Task OnAppliedAsync(ConsumeContext<RegistrationAdmissionFacts> consumeContext) =>
        placements.ReconsiderAsync([consumeContext.Message.RegistrationId], consumeContext.CancellationToken);

    /// <summary>
    /// A redelivery (the first delivery committed the facts but failed before or while deciding): decided now, so a
    /// failure between the two is made good by the retry. Deciding twice changes nothing the first did not.
    /// </summary>
    protected override Task OnDuplicateAsync(ConsumeContext<RegistrationAdmissionFacts> consumeContext) =>
        placements.ReconsiderAsync([consumeContext.Message.RegistrationId], consumeContext.CancellationToken);
}

/// <summary>
/// The registry merged registrations of one person: the open requests under a merged id move to the survivor and are
/// decided again on the survivor's facts; later requests under a merged id are kept under the survivor.
/// </summary>
public sealed class RegistrationsMergedConsumer(ShelterDbContext db, Placements placements, ILogger<RegistrationsMergedConsumer> logger)
    : InboxConsumer<ShelterDbContext, RegistrationsMerged>(db, logger)
{
    protected override async Task ApplyAsync(RegistrationsMerged @event, ConsumeContext<RegistrationsMerged> consumeContext) =>
        await placements.FollowMergeAsync(@event, consumeContext.CancellationToken);

    protected override Task OnAppliedAsync(ConsumeContext<RegistrationsMerged> consumeContext) =>
        placements.ReconsiderAsync([consumeContext.Message.SurvivingRegistrationId], consumeContext.CancellationToken);

    protected override Task OnDuplicateAsync(ConsumeContext<RegistrationsMerged> consumeContext) =>
        placements.ReconsiderAsync([consumeContext.Message.SurvivingRegistrationId], consumeContext.CancellationToken);
}
