using Chain.Common.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Signals.Persistence;

namespace Ketenmesh.Signals.Domain;

/// <summary>
/// What the chain did with a signal, written back onto it so the signaller hears back (the feedback
/// the brief says signallers never get). A status only moves forward: news that arrives late
/// (an assessment after the registration) fills in the outcome but never sets the status back.
/// </summary>
public sealed class SignalFeedback(SignalsDbContext db, TimeProvider clock)
{
    /// <summary>Records the change; null when the signal is unknown here. Saved by the caller.</summary>
    public async Task<(string ReporterPartnerId, SignalStatusChange Change)?> ApplyAsync(string signalId, SignalStatus status, Action<SignalOutcome> outcome, CancellationToken cancellationToken)
    {
        var record = await db.Signals.FindAsync([signalId], cancellationToken);
        if (record is null)
        {
            return null;
        }
        var previous = (SignalStatus)record.Status;
        var updated = record.Outcome is null ? new SignalOutcome() : SignalOutcome.Parser.ParseFrom(record.Outcome);
        outcome(updated);
        var now = SignalRecord.Moment(clock.GetUtcNow());
        if (AnonymousChannel.Applies(record.ReporterPartnerId, record.Observation))
        {
            now = AnonymousChannel.Month(now);
        }
        if (status == SignalStatus.Closed && updated.ClosedAt is null)
        {
            // Stamped here, with the moment as this signal may keep it (only the month, for an anonymous tip).
            updated.ClosedAt = Timestamp.FromDateTime(now);
        }
        if (status > previous && previous != SignalStatus.Closed)
        {
            record.Status = (int)status;
        }
        record.Outcome = updated.ToByteArray();
        record.StatusChangedAt = now;
        record.Version++;
        db.StatusChanges.Add(new SignalStatusChangeRecord
        {
            SignalId = record.SignalId,
            ReporterPartnerId = record.ReporterPartnerId,
            ClientRequestId = record.ClientRequestId,
            PreviousStatus = (int)previous,
            NewStatus = record.Status,
            Outcome = record.Outcome,
            ChangedAt = now,
        });
        return (record.ReporterPartnerId, new SignalStatusChange
        {
            SignalId = record.SignalId,
            ClientRequestId = record.ClientRequestId,
            PreviousStatus = previous,
            NewStatus = (SignalStatus)record.Status,
            Outcome = updated,
            ChangedAt = Timestamp.FromDateTime(now),
        });
    }

    public static Action<SignalOutcome> Track(Track track) => outcome => outcome.Track = track;

    public static Action<SignalOutcome> Registration(string registrationId) => outcome =>
    {
        outcome.RegistrationId = registrationId;
        outcome.ReferredTo = PartnerType.Comensha;
    };

    public static Action<SignalOutcome> Closed(SignalClosureReason reason) => outcome => outcome.ClosureReason = reason;

    /// <summary>Why the registration ended, as the signaller's closure reasons say it.</summary>
    public static SignalClosureReason ClosureOf(Chain.Registry.V1.RegistrationClosureReason reason) => reason switch
    {
        Chain.Registry.V1.RegistrationClosureReason.NotAVictim => SignalClosureReason.NoIndications,
        Chain.Registry.V1.RegistrationClosureReason.NoContact => SignalClosureReason.InsufficientInformation,
        _ => SignalClosureReason.TrackCompleted,
    };
}
