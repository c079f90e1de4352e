using Chain.Events.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Signals.Domain;
using Ketenmesh.Signals.Persistence;
using MassTransit;

namespace Ketenmesh.Signals.Consumers;

/// <summary>
/// Writes one kind of chain news back onto the signals it concerns, once per event, and tells the
/// reporting partner's watchers after the change is committed.
/// </summary>
public abstract class FeedbackConsumer<TEvent>(SignalsDbContext db, SignalFeedback feedback, SignalStatusFeed feed, ILogger logger)
    : InboxConsumer<SignalsDbContext, TEvent>(db, logger)
    where TEvent : class, IMessage<TEvent>
{
    private readonly List<(string Partner, SignalStatusChange Change)> _changes = [];

    protected abstract IEnumerable<(string SignalId, SignalStatus Status, Action<SignalOutcome> Outcome)> Updates(TEvent @event);

    protected override async Task ApplyAsync(TEvent @event, ConsumeContext<TEvent> consumeContext)
    {
        _changes.Clear();
        foreach (var (signalId, status, outcome) in Updates(@event))
        {
            if (await feedback.ApplyAsync(signalId, status, outcome, consumeContext.CancellationToken) is { } change)
            {
                _changes.Add(change);
            }
        }
    }

    protected override Task OnAppliedAsync(ConsumeContext<TEvent> consumeContext)
    {
        foreach (var (partner, change) in _changes)
        {
            feed.Publish(partner, change);
        }
        return Task.CompletedTask;
    }
}

/// <summary>The signal was assessed: ASSESSED, with the recommended track.</summary>
public sealed class RiskAssessedConsumer(SignalsDbContext db, SignalFeedback feedback, SignalStatusFeed feed, ILogger<RiskAssessedConsumer> logger)
    : FeedbackConsumer<RiskAssessed>(db, feedback, feed, logger)
{
    protected override IEnumerable<(string, SignalStatus, Action<SignalOutcome>)> Updates(RiskAssessed @event) =>
        [(@event.SignalId, SignalStatus.Assessed, SignalFeedback.Track(@event.RecommendedTrack))];
}

/// <summary>CoMensha registered the person the signal is about: REGISTERED, with the registration.</summary>
public sealed class VictimRegisteredConsumer(SignalsDbContext db, SignalFeedback feedback, SignalStatusFeed feed, ILogger<VictimRegisteredConsumer> logger)
    : FeedbackConsumer<VictimRegistered>(db, feedback, feed, logger)
{
    protected override IEnumerable<(string, SignalStatus, Action<SignalOutcome>)> Updates(VictimRegistered @event) =>
        @event.SourceSignalIds.Select(id => (id, SignalStatus.Registered, SignalFeedback.Registration(@event.RegistrationId)));
}

/// <summary>The signal was about a person CoMensha had registered already: REGISTERED, with that registration.</summary>
public sealed class SignalLinkedConsumer(SignalsDbContext db, SignalFeedback feedback, SignalStatusFeed feed, ILogger<SignalLinkedConsumer> logger)
    : FeedbackConsumer<SignalLinked>(db, feedback, feed, logger)
{
    protected override IEnumerable<(string, SignalStatus, Action<SignalOutcome>)> Updates(SignalLinked @event) =>
        [(@event.SignalId, SignalStatus.Registered, SignalFeedback.Registration(@event.RegistrationId))];
}

/// <summary>
/// The registration a signal led to was closed: CLOSED, with why, in the signaller's terms. A merge is
/// not an end for the signal; <see cref="RegistrationsMergedConsumer"/> moves it to the survivor.
/// </summary>
public sealed class VictimStatusChangedConsumer(SignalsDbContext db, SignalFeedback feedback, SignalStatusFeed feed, ILogger<VictimStatusChangedConsumer> logger)
    : FeedbackConsumer<VictimStatusChanged>(db, feedback, feed, logger)
{
    protected override IEnumerable<(string, SignalStatus, Action<SignalOutcome>)> Updates(VictimStatusChanged @event) =>
        @event.NewStatus != Chain.Registry.V1.VictimStatus.Closed || @event.ClosureReason == Chain.Registry.V1.RegistrationClosureReason.Merged
            ? []
            : @event.SignalIds.Select(id => (id, SignalStatus.Closed, SignalFeedback.Closed(SignalFeedback.ClosureOf(@event.ClosureReason))));
}

/// <summary>Registrations were merged: signals of the merged ones now point at the surviving registration.</summary>
public sealed class RegistrationsMergedConsumer(SignalsDbContext db, SignalFeedback feedback, SignalStatusFeed feed, ILogger<RegistrationsMergedConsumer> logger)
    : FeedbackConsumer<RegistrationsMerged>(db, feedback, feed, logger)
{
    protected override IEnumerable<(string, SignalStatus, Action<SignalOutcome>)> Updates(RegistrationsMerged @event) =>
        @event.SignalIds.Select(id => (id, SignalStatus.Registered, SignalFeedback.Registration(@event.SurvivingRegistrationId)));
}
