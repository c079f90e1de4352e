using Chain.Events.V1;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Shelter.Persistence;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Shelter.Consumers;

/// <summary>Keeps the projection of the registry's admission facts: the newest version wins, whatever order they arrive in.</summary>
public sealed class AdmissionFactsConsumer(ShelterDbContext db, TimeProvider clock, ILogger<AdmissionFactsConsumer> logger)
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
}
