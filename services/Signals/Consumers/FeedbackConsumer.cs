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
