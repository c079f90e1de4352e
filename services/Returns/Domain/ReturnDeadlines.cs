using Chain.Events.V1;
using Chain.Returns.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Contracts;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Returns.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Returns.Domain;

/// <summary>When the 30-day target counts as at risk, how often IOM checks in after return, and how often to look.</summary>
public sealed class ReturnDeadlineOptions
{
    /// <summary>Days before the 30-day target from which a plan without departure is at risk (docs/adr/0013).</summary>
    public int AtRiskDaysBefore { get; set; } = 7;

    /// <summary>Days between monitoring check-ins while monitoring runs (the brief gives the 6 months, not the rhythm).</summary>
    public int CheckInDays { get; set; } = 30;

    /// <summary>How often to look; zero switches the watch off.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Raises ReturnTargetAtRisk once per plan whose 30-day target is near or past without a departure, and
/// MonitoringCheckInOverdue once per check-in that passed its due day. Safe on several replicas: each
/// flag is set under the case's version, so only one replica raises it.
/// </summary>
public sealed class ReturnDeadlines(ReturnsDbContext db, EventOutbox<ReturnsDbContext> outbox, TimeProvider clock, IOptions<ReturnDeadlineOptions> options)
{
    public async Task<(int AtRisk, int Overdue)> RunAsync(CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var horizon = today.AddDays(options.Value.AtRiskDaysBefore);
        var atRisk = await db.Cases.AsNoTracking()
            .Where(c => c.TargetDepartureBy != null && !c.TargetFlagged && c.TargetDepartureBy <= horizon)
            .Select(c => c.ReturnCaseId).ToListAsync(cancellationToken);
        var raised = 0;
        foreach (var id in atRisk)
        {
            raised += await FlagAsync(id, today, target: true, cancellationToken) ? 1 : 0;
        }
        var overdue = await db.Cases.AsNoTracking()
            .Where(c => c.NextCheckInDue != null && !c.CheckInFlagged && c.NextCheckInDue < today)
            .Select(c => c.ReturnCaseId).ToListAsync(cancellationToken);
        var late = 0;
        foreach (var id in overdue)
        {
            late += await FlagAsync(id, today, target: false, cancellationToken) ? 1 : 0;
        }
        return (raised, late);
    }

    private async Task<bool> FlagAsync(string returnCaseId, DateOnly today, bool target, CancellationToken cancellationToken)
    {
        try
        {
            var row = await db.Cases.FirstAsync(c => c.ReturnCaseId == returnCaseId, cancellationToken);
            var returnCase = ReturnCase.Parser.ParseFrom(row.Data);
            var now = Timestamp.FromDateTimeOffset(clock.GetUtcNow());
            if (target)
            {
                if (row.TargetFlagged || returnCase.Plan is not { } plan || row.TargetDepartureBy is not { } by)
                {
                    return false;
                }
                plan.TargetAtRisk = true;
                row.TargetFlagged = true;
                outbox.Add(new ReturnTargetAtRisk
                {
                    EventId = Guid.CreateVersion7().ToString(),
                    OccurredAt = now,
                    ReturnCaseId = returnCaseId,
                    PlanId = plan.PlanId,
                    TargetDepartureBy = plan.TargetDepartureBy,
                    DaysRemaining = by.DayNumber - today.DayNumber,
                });
            }
            else
            {
                if (row.CheckInFlagged || row.NextCheckInDue is not { } due)
                {
                    return false;
                }
                row.CheckInFlagged = true;
                returnCase.CheckInOverdue = true;
                outbox.Add(new MonitoringCheckInOverdue
                {
                    EventId = Guid.CreateVersion7().ToString(),
                    OccurredAt = now,
                    ReturnCaseId = returnCaseId,
                    DueOn = due.ToDate(),
                });
            }
            ReturnCases.Save(row, returnCase);
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateConcurrencyException)
        {
            // Changed meanwhile (by a partner or another replica): the next round looks again.
            return false;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }
}

/// <summary>Runs <see cref="ReturnDeadlines"/> at start and then every <see cref="ReturnDeadlineOptions.CheckInterval"/>.</summary>
public sealed class ReturnDeadlineWatch(IServiceScopeFactory scopes, IOptions<ReturnDeadlineOptions> options, TimeProvider clock, ILogger<ReturnDeadlineWatch> logger)
    : PeriodicJob(scopes, clock, logger)
{
    protected override TimeSpan Interval => options.Value.CheckInterval;

    protected override string Name => "Looking at return deadlines";

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var (atRisk, overdue) = await services.GetRequiredService<ReturnDeadlines>().RunAsync(cancellationToken);
        if (atRisk + overdue > 0)
        {
            Logger.LogInformation("Return deadlines: {AtRisk} targets at risk, {Overdue} check-ins overdue.", atRisk, overdue);
        }
    }
}
