using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Messaging.Tests.Events;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Messaging.Tests.Chain;

/// <summary>Hop 1: the registry registers every recorded signal as a possible victim.</summary>
sealed class SignalRegistration(RegistryDb db, RegistryProbe probe, IServiceProvider services)
    : InboxConsumer<RegistryDb, SignalRecorded>(db)
{
    public const string PoisonPartner = "poison";

    protected override Task ApplyAsync(SignalRecorded @event, ConsumeContext<SignalRecorded> consumeContext)
    {
        if (@event.Partner == PoisonPartner)
        {
            throw new InvalidOperationException($"Signal {@event.SignalId} cannot be registered (poison test message).");
        }

        Context.Registrations.Add(new Registration
        {
            Kind = Registration.Victim,
            SignalId = @event.SignalId,
            Number = @event.Number,
            MessageId = consumeContext.MessageId!.Value,
            TraceId = Activity.Current?.TraceId.ToString(),
            RegisteredAt = DateTime.UtcNow,
        });

        if (probe.RaiseVictimRegistered)
        {
            services.GetRequiredService<EventOutbox<RegistryDb>>().Add(
                new VictimRegistered { SignalId = @event.SignalId, Number = @event.Number, RecordedAt = @event.RecordedAt },
                consumeContext.CorrelationId);
        }
        else
        {
            probe.EndToEndLatencies.Add(DateTime.UtcNow - @event.RecordedAt.ToDateTime());
        }

        return Task.CompletedTask;
    }

    protected override Task OnDuplicateAsync(ConsumeContext<SignalRecorded> consumeContext)
    {
        probe.Duplicate();
        return Task.CompletedTask;
    }
}

/// <summary>Hop 2: a shelter placement is requested for every registered victim.</summary>
sealed class PlacementRequest(RegistryDb db, RegistryProbe probe) : InboxConsumer<RegistryDb, VictimRegistered>(db)
{
    protected override Task ApplyAsync(VictimRegistered @event, ConsumeContext<VictimRegistered> consumeContext)
    {
        Context.Registrations.Add(new Registration
        {
            Kind = Registration.Placement,
            SignalId = @event.SignalId,
            Number = @event.Number,
            MessageId = consumeContext.MessageId!.Value,
            TraceId = Activity.Current?.TraceId.ToString(),
            RegisteredAt = DateTime.UtcNow,
        });
        probe.EndToEndLatencies.Add(DateTime.UtcNow - @event.RecordedAt.ToDateTime());
        return Task.CompletedTask;
    }

    protected override Task OnDuplicateAsync(ConsumeContext<VictimRegistered> consumeContext)
    {
        probe.Duplicate();
        return Task.CompletedTask;
    }
}

static class Timestamps
{
    public static Timestamp Now() => Timestamp.FromDateTime(DateTime.UtcNow);
}
