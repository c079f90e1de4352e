using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Contracts;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Signals.Persistence;
using Microsoft.EntityFrameworkCore;
using Ketenmesh.Domain;

namespace Ketenmesh.Signals.Domain;

/// <summary>
/// Accepting and reading back signals. Accepted means durable: the signal row and its SignalReceived
/// event commit in one transaction, so the chain hears of every signal a partner was told we have.
/// </summary>
public sealed class SignalIntake(SignalsDbContext db, EventOutbox<SignalsDbContext> outbox, SignalStatusFeed feed, TimeProvider clock)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public async Task<(Signal Signal, bool Duplicate)> SubmitAsync(string partnerId, string clientRequestId, SignalObservation? observation, CancellationToken cancellationToken)
    {
        var result = (await SubmitManyAsync(partnerId, [new SubmitSignalBatchRequest { ClientRequestId = clientRequestId, Observation = observation }], cancellationToken))[0];
        return result.Refusal is { } refusal ? throw refusal : (result.Signal!, result.Duplicate);
    }

    /// <summary>
    /// Accepts a group of signals in one transaction (one durable commit for all), so a bulk stream pays
    /// the disk's sync once per group instead of once per signal. Each item has its own result: a bad
    /// item is refused without holding up the others.
    /// </summary>
    public async Task<IReadOnlyList<SubmitResult>> SubmitManyAsync(string partnerId, IReadOnlyList<SubmitSignalBatchRequest> items, CancellationToken cancellationToken)
    {
        try
        {
            return await TrySubmitManyAsync(partnerId, items, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A request of this group raced in on another connection and won: with that winner stored,
            // the group's second pass answers it as for any resubmission.
            db.ChangeTracker.Clear();
            return await TrySubmitManyAsync(partnerId, items, cancellationToken);
        }
    }

    private async Task<IReadOnlyList<SubmitResult>> TrySubmitManyAsync(string partnerId, IReadOnlyList<SubmitSignalBatchRequest> items, CancellationToken cancellationToken)
    {
        var now = SignalRecord.Moment(clock.GetUtcNow());
        var results = new SubmitResult[items.Count];
        var requestIds = items.Select(i => i.ClientRequestId).Where(id => id.Length > 0).Distinct().ToList();
        var known = await db.Signals.AsNoTracking()
            .Where(s => s.ReporterPartnerId == partnerId && requestIds.Contains(s.ClientRequestId))
            .ToDictionaryAsync(s => s.ClientRequestId, StringComparer.Ordinal, cancellationToken);
        var staged = new List<SignalRecord>();
        for (var i = 0; i < items.Count; i++)
        {
            var (clientRequestId, observation) = (items[i].ClientRequestId, items[i].Observation);
            var problems = SignalValidator.Validate(clientRequestId, observation, DateOnly.FromDateTime(now));
            var anonymous = observation is not null && AnonymousChannel.Applies(partnerId, observation);
            if (anonymous)
            {
                problems.AddRange(AnonymousChannel.Problems(observation!));
            }
            if (problems.Count > 0)
            {
                results[i] = new(null, false, new InvalidRequest($"The signal is not valid: {problems.Count} problem(s), see the field violations.", problems));
                continue;
            }
            // Valid, so there is one; on the anonymous line, as much of it as may be kept.
            var kept = anonymous ? AnonymousChannel.Kept(observation!) : observation!;
            var observationBytes = kept.ToByteArray();
            if (known.TryGetValue(clientRequestId, out var existing))
            {
                results[i] = Duplicate(existing, observationBytes);
                continue;
            }
            var record = Stage(partnerId, clientRequestId, kept, observationBytes, anonymous ? AnonymousChannel.Month(now) : now, anonymous);
            known[clientRequestId] = record;
            staged.Add(record);
            results[i] = new(ToSignal(record), false, null);
        }
        if (staged.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            // A long bulk stream reuses this context: tracking what is committed would only slow it down.
            db.ChangeTracker.Clear();
        }
        foreach (var record in staged)
        {
            feed.Publish(partnerId, new SignalStatusChange
            {
                SignalId = record.SignalId,
                ClientRequestId = record.ClientRequestId,
                NewStatus = SignalStatus.Received,
                ChangedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(record.StatusChangedAt, DateTimeKind.Utc)),
            });
        }
        return results;
    }

    /// <summary>Stages the signal and its SignalReceived event in the same unit of work.</summary>
    private SignalRecord Stage(string partnerId, string clientRequestId, SignalObservation observation, byte[] observationBytes, DateTime now, bool anonymous)
    {
        var record = new SignalRecord
        {
            SignalId = $"sig-{(anonymous ? Guid.NewGuid() : Guid.CreateVersion7()):N}",
            ReporterPartnerId = partnerId,
            ClientRequestId = clientRequestId,
            Observation = observationBytes,
            Status = (int)SignalStatus.Received,
            ReceivedAt = now,
            StatusChangedAt = now,
            Version = 1,
        };
        db.Signals.Add(record);
        db.StatusChanges.Add(new SignalStatusChangeRecord
        {
            SignalId = record.SignalId,
            ReporterPartnerId = partnerId,
            ClientRequestId = clientRequestId,
            NewStatus = record.Status,
            ChangedAt = now,
        });
        outbox.Add(new SignalReceived
        {
            EventId = (anonymous ? Guid.NewGuid() : Guid.CreateVersion7()).ToString(),
            OccurredAt = Timestamp.FromDateTime(now),
            SignalId = record.SignalId,
            ReporterPartner = PartnerTypes.Of(partnerId),
            Channel = observation.Channel,
            ObservedIndicators = { observation.ObservedIndicators },
            SuspectedForm = observation.SuspectedForm,
            Sector = observation.Sector,
            LocationType = observation.LocationType,
            MinorSuspected = observation.MinorSuspected,
            PersonLinkKeys = { observation.PersonLinkKeys },
        });
        return record;
    }

    /// <summary>
    /// A partner reads its own signal, and EMM those passed on to it (<see cref="SignalRouting"/>); anyone
    /// else's is "not found", so existence does not leak.
    /// </summary>
    public async Task<Signal> GetAsync(string partnerId, string signalId, string purpose, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(signalId))
        {
            throw new InvalidRequest("signal_id is required.", [("signal_id", "is required")]);
        }
        var record = await db.Signals.AsNoTracking().FirstOrDefaultAsync(s => s.SignalId == signalId, cancellationToken);
        if (record is null || !SignalRouting.MayRead(partnerId, purpose, record.ReporterPartnerId))
        {
            throw new NotFound($"No signal '{signalId}' reported by partner '{partnerId}'.");
        }
        return ToSignal(record);
    }

    /// <summary>The caller's own signals, newest first, with their status: the feedback the chain never gave.</summary>
    public async Task<ListMySignalsResponse> ListAsync(string partnerId, ListMySignalsRequest request, CancellationToken cancellationToken)
    {
        if (request.PageSize is < 0 or > MaxPageSize)
        {
            throw new InvalidRequest("page_size is out of range.", [("page_size", $"must be 0 (default {DefaultPageSize}) to {MaxPageSize}")]);
        }
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var query = db.Signals.AsNoTracking().Where(s => s.ReporterPartnerId == partnerId);
        if (request.StatusFilter.Count > 0)
        {
            // Each distinct status once: the filter is a set, and each entry becomes a parameter of the query.
            var statuses = request.StatusFilter.Select(s => (int)s).Distinct().ToList();
            query = query.Where(s => statuses.Contains(s.Status));
        }
        if (request.PageToken.Length > 0)
        {
            var (receivedAt, signalId) = KeysetPageToken.Parse(request.PageToken);
            query = query.Where(s => s.ReceivedAt < receivedAt || (s.ReceivedAt == receivedAt && string.Compare(s.SignalId, signalId) < 0));
        }
        var page = await query.OrderByDescending(s => s.ReceivedAt).ThenByDescending(s => s.SignalId)
            .Take(pageSize + 1).ToListAsync(cancellationToken);
        var response = new ListMySignalsResponse();
        response.Signals.AddRange(page.Take(pageSize).Select(ToSignal));
        if (page.Count > pageSize)
        {
            var last = page[pageSize - 1];
            response.NextPageToken = KeysetPageToken.Create(last.ReceivedAt, last.SignalId);
        }
        return response;
    }

    /// <summary>Signals of the partner whose status changed after <paramref name="since"/>, for resuming a watch.</summary>
    /// <summary>The status changes of a partner's signals committed after <paramref name="since"/>, by any replica, in order.</summary>
    public async Task<List<SignalStatusChange>> ChangedSinceAsync(string partnerId, DateTime since, CancellationToken cancellationToken)
    {
        var records = await db.StatusChanges.AsNoTracking()
            .Where(c => c.ReporterPartnerId == partnerId && c.ChangedAt > since)
            .OrderBy(c => c.ChangedAt).ThenBy(c => c.Sequence).Take(MaxPageSize).ToListAsync(cancellationToken);
        return records.Select(c => new SignalStatusChange
        {
            SignalId = c.SignalId,
            ClientRequestId = c.ClientRequestId,
            PreviousStatus = (SignalStatus)c.PreviousStatus,
            NewStatus = (SignalStatus)c.NewStatus,
            Outcome = c.Outcome is null ? null : SignalOutcome.Parser.ParseFrom(c.Outcome),
            ChangedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(c.ChangedAt, DateTimeKind.Utc)),
        }).ToList();
    }

    /// <summary>The same id with the same observation is a safe retry; with another observation it is a client bug.</summary>
    private static SubmitResult Duplicate(SignalRecord existing, byte[] observation) =>
        existing.Observation.AsSpan().SequenceEqual(observation)
            ? new(ToSignal(existing), true, null)
            : new(null, false, new AlreadyExists($"client_request_id '{existing.ClientRequestId}' was already used for a different signal ({existing.SignalId}); use a new id for a new signal."));

    internal static Signal ToSignal(SignalRecord record) => new()
    {
        SignalId = record.SignalId,
        ClientRequestId = record.ClientRequestId,
        ReporterPartner = PartnerTypes.Of(record.ReporterPartnerId),
        Observation = SignalObservation.Parser.ParseFrom(record.Observation),
        Status = (SignalStatus)record.Status,
        Outcome = record.Outcome is null ? null : SignalOutcome.Parser.ParseFrom(record.Outcome),
        ReceivedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(record.ReceivedAt, DateTimeKind.Utc)),
        StatusChangedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(record.StatusChangedAt, DateTimeKind.Utc)),
        Version = record.Version,
    };
}

/// <summary>One submitted signal's outcome: the stored signal (new or a duplicate), or why it was refused.</summary>
public sealed record SubmitResult(Signal? Signal, bool Duplicate, DomainRefusal? Refusal);
