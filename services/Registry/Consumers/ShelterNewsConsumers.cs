using Chain.Events.V1;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Registry.Domain;
using Ketenmesh.Registry.Persistence;
using MassTransit;

namespace Ketenmesh.Registry.Consumers;

/// <summary>A shelter confirmed a placement: the registration records where the person is placed.</summary>
public sealed class PlacementConfirmedConsumer(RegistryDbContext db, ShelterPlacements placements, ILogger<PlacementConfirmedConsumer> logger)
    : InboxConsumer<RegistryDbContext, PlacementConfirmed>(db, logger)
{
    protected override async Task ApplyAsync(PlacementConfirmed @event, ConsumeContext<PlacementConfirmed> consumeContext)
    {
        if (!await placements.OnConfirmedAsync(@event, consumeContext.CancellationToken))
        {
            Unknown(Logger, ConsumerName, nameof(PlacementConfirmed), consumeContext.MessageId);
        }
    }

    /// <summary>
    /// The shelter service takes any registration id from the partner that requests a place; one the registry
    /// does not keep is ignored (retrying would not make it exist). Logged by message id only: no registration,
    /// placement or shelter, which together would tell where a person is.
    /// </summary>
    internal static void Unknown(ILogger logger, string consumer, string messageType, Guid? messageId) =>
        logger.LogWarning("{Consumer} ignored {MessageType} {MessageId}: it names no registration kept here", consumer, messageType, messageId);
}

/// <summary>A placement was released (declined, cancelled, ended or expired): the registration no longer records it.</summary>
public sealed class PlacementReleasedConsumer(RegistryDbContext db, ShelterPlacements placements, ILogger<PlacementReleasedConsumer> logger)
    : InboxConsumer<RegistryDbContext, PlacementReleased>(db, logger)
{
    protected override async Task ApplyAsync(PlacementReleased @event, ConsumeContext<PlacementReleased> consumeContext)
    {
        if (!await placements.OnReleasedAsync(@event, consumeContext.CancellationToken))
        {
            PlacementConfirmedConsumer.Unknown(Logger, ConsumerName, nameof(PlacementReleased), consumeContext.MessageId);
        }
    }
}
