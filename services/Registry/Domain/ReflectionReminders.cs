using Chain.Events.V1;
using Chain.Registry.V1;
using Ketenmesh.Contracts;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// Keeps reflection periods from running out unnoticed: raises ReflectionPeriodEnding once per period
/// when its last day comes within the reminder window, and marks a period whose last day has passed
/// as expired. Safe to run on several replicas at once: a reminder is claimed by a conditional update,
/// an expiry by the registration's version.
/// </summary>
public sealed class ReflectionReminders(RegistryDbContext db, RegistrationStore store, EventOutbox<RegistryDbContext> outbox)
{
    public async Task<(int Reminded, int Expired)> RunAsync(int reminderDays, CancellationToken cancellationToken)
    {
        var today = store.Today();
        var horizon = today.AddDays(reminderDays);
        var due = await db.Registrations.AsNoTracking()
            .Where(r => r.ReflectionEndsOn != null && !r.ReflectionReminded && r.ReflectionEndsOn >= today && r.ReflectionEndsOn <= horizon)
            .Select(r => new { r.RegistrationId, EndsOn = r.ReflectionEndsOn!.Value })
            .ToListAsync(cancellationToken);
        var reminded = 0;
        foreach (var period in due)
        {
            reminded += await RemindAsync(period.RegistrationId, period.EndsOn, today, cancellationToken) ? 1 : 0;
        }
        var ended = await db.Registrations.AsNoTracking()
            .Where(r => r.ReflectionEndsOn != null && r.ReflectionEndsOn < today)
            .Select(r => r.RegistrationId)
            .ToListAsync(cancellationToken);
        var expired = 0;
        foreach (var registrationId in ended)
        {
            expired += await ExpireAsync(registrationId, cancellationToken) ? 1 : 0;
        }
        return (reminded, expired);
    }

    private async Task<bool> RemindAsync(string registrationId, DateOnly endsOn, DateOnly today, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var claimed = await db.Registrations
            .Where(r => r.RegistrationId == registrationId && !r.ReflectionReminded && r.ReflectionEndsOn == endsOn)
            .ExecuteUpdateAsync(set => set.SetProperty(r => r.ReflectionReminded, true), cancellationToken);
        if (claimed == 0)
        {
            return false;
        }
        outbox.Add(new ReflectionPeriodEnding
        {
            EventId = Guid.CreateVersion7().ToString(),
            OccurredAt = store.Now(),
            RegistrationId = registrationId,
            EndsOn = endsOn.ToDate(),
            DaysRemaining = endsOn.DayNumber - today.DayNumber,
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return true;
    }

    private async Task<bool> ExpireAsync(string registrationId, CancellationToken cancellationToken)
    {
        try
        {
            var (row, registration) = await store.LoadForChangeAsync(registrationId, 0, cancellationToken, allowClosed: true);
            if (registration.ReflectionPeriod is not { State: ReflectionPeriodState.Running } period)
            {
                return false;
            }
            period.State = ReflectionPeriodState.Expired;
            period.EndedOn = period.EndOn;
            store.Save(row, registration);
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
