using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Risk.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Risk.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Risk.Domain;

/// <summary>
/// Assessing signals and keeping every assessment. Each new assessment and its RiskAssessed event
/// are saved together (outbox), and an earlier one is kept, only no longer current.
/// </summary>
public sealed class Assessor(RiskDbContext db, EventOutbox<RiskDbContext> outbox, RuleSetLibrary library, TimeProvider clock)
{
    /// <summary>A new signal: remember what it said and assess it under the active rule set. Saved by the caller.</summary>
    public async Task AssessNewAsync(SignalReceived received, CancellationToken cancellationToken)
    {
        if (await db.SignalFacts.AnyAsync(s => s.SignalId == received.SignalId, cancellationToken))
        {
            return;
        }
        db.SignalFacts.Add(new SignalFactsRow { SignalId = received.SignalId, Facts = received.ToByteArray(), ReceivedAt = clock.GetUtcNow().UtcDateTime });
        var ruleSet = await ActiveAsync(cancellationToken);
        Add(received.SignalId, ruleSet, RuleEngine.Score(ruleSet, FactsOf(received)), previous: null);
    }

    /// <summary>
    /// Assesses every signal again under <paramref name="version"/>, which then becomes the active
    /// version (unless a dry run). Signals already assessed under it are left alone, so running it
    /// twice changes nothing.
    /// </summary>
    public async Task<ReassessOpenSignalsResponse> ReassessAsync(string version, bool dryRun, CancellationToken cancellationToken)
    {
        var ruleSet = library.Find(version) ?? throw new KeyNotFoundException($"There is no rule set '{version}'; ListRuleSets shows the versions this service knows.");
        var summary = new ReassessOpenSignalsResponse { RuleSetVersion = version };
        var assessed = (await db.Assessments.Where(a => a.RuleSetVersion == version).Select(a => a.SignalId).ToListAsync(cancellationToken)).ToHashSet();
        var current = await db.Assessments.Where(a => a.Current).ToDictionaryAsync(a => a.SignalId, cancellationToken);
        foreach (var signal in await db.SignalFacts.AsNoTracking().OrderBy(s => s.ReceivedAt).ToListAsync(cancellationToken))
        {
            if (assessed.Contains(signal.SignalId))
            {
                summary.AlreadyCurrent++;
                continue;
            }
            var scoring = RuleEngine.Score(ruleSet, FactsOf(SignalReceived.Parser.ParseFrom(signal.Facts)));
            var before = current.TryGetValue(signal.SignalId, out var row) ? ExplainAssessmentResponse.Parser.ParseFrom(row.Explained).Assessment : null;
            summary.SignalsReassessed++;
            summary.BandChanged += before is not null && before.Band != scoring.Band ? 1 : 0;
            summary.TrackChanged += before is not null && before.RecommendedTrack != scoring.Track ? 1 : 0;
            if (!dryRun)
            {
                Add(signal.SignalId, ruleSet, scoring, row);
            }
        }
        if (!dryRun)
        {
            await ActivateAsync(version, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
        return summary;
    }

    /// <summary>The active rule set; on a fresh database, the one this build ships as active.</summary>
    public async Task<RuleSet> ActiveAsync(CancellationToken cancellationToken)
    {
        var active = await db.RuleSetStates.AsNoTracking().Where(r => r.State == (int)RuleSetState.Active).Select(r => r.Version).FirstOrDefaultAsync(cancellationToken);
        if (active is not null)
        {
            return library.Find(active) ?? throw new InvalidOperationException($"The active rule set '{active}' is not in this build; deploy a build that has it.");
        }
        var shipped = library.ShippedActive;
        if (db.RuleSetStates.Local.All(r => r.Version != shipped.Version))
        {
            db.RuleSetStates.Add(new RuleSetStateRow { Version = shipped.Version, State = (int)RuleSetState.Active, ActivatedAt = clock.GetUtcNow().UtcDateTime });
        }
        return shipped;
    }

    private async Task ActivateAsync(string version, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var row in await db.RuleSetStates.Where(r => r.State == (int)RuleSetState.Active && r.Version != version).ToListAsync(cancellationToken))
        {
            row.State = (int)RuleSetState.Retired;
            row.RetiredAt = now;
        }
        var target = await db.RuleSetStates.FindAsync([version], cancellationToken);
        if (target is null)
        {
            db.RuleSetStates.Add(new RuleSetStateRow { Version = version, State = (int)RuleSetState.Active, ActivatedAt = now });
        }
        else if (target.State != (int)RuleSetState.Active)
        {
            target.State = (int)RuleSetState.Active;
            target.ActivatedAt = now;
            target.RetiredAt = null;
        }
    }

    private void Add(string signalId, RuleSet ruleSet, Scoring scoring, AssessmentRow? previous)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var assessment = new Assessment
        {
            AssessmentId = $"as-{Guid.CreateVersion7():N}",
            SignalId = signalId,
            Score = scoring.Score,
            Band = scoring.Band,
            RecommendedTrack = scoring.Track,
            RuleSetVersion = ruleSet.Version,
            EscalationFlags = { scoring.Flags },
            AssessedAt = Timestamp.FromDateTime(now),
        };
        if (previous is not null)
        {
            previous.Current = false;
        }
        db.Assessments.Add(new AssessmentRow
        {
            AssessmentId = assessment.AssessmentId,
            SignalId = signalId,
            RuleSetVersion = ruleSet.Version,
            Current = true,
            AssessedAt = now,
            Explained = new ExplainAssessmentResponse { Assessment = assessment, Contributions = { scoring.Contributions } }.ToByteArray(),
        });
        outbox.Add(new RiskAssessed
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = assessment.AssessedAt,
            AssessmentId = assessment.AssessmentId,
            SignalId = signalId,
            Band = assessment.Band,
            RecommendedTrack = assessment.RecommendedTrack,
            RuleSetVersion = ruleSet.Version,
            EscalationFlags = { scoring.Flags },
        });
    }

    public static SignalFacts FactsOf(SignalReceived received) =>
        new(received.ObservedIndicators.Where(i => i != Indicator.Unspecified).ToHashSet(), received.MinorSuspected);
}
