using System.Collections.Concurrent;
using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Registry.V1;
using Chain.Returns.V1;
using Grpc.Core;
using Ketenmesh.Returns.Domain;
using Ketenmesh.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Returns.Tests;

/// <summary>What return coordination told the chain.</summary>
public sealed class ReturnsEvents
{
    public ConcurrentQueue<DepartureSuspended> Suspended { get; } = new();

    public ConcurrentQueue<DepartureResumed> Resumed { get; } = new();

    public ConcurrentQueue<ReturnPlanned> Planned { get; } = new();

    public ConcurrentQueue<Departed> Departed { get; } = new();

    public ConcurrentQueue<MonitoringCheckIn> CheckIns { get; } = new();

    public ConcurrentQueue<MonitoringCheckInOverdue> Overdue { get; } = new();

    public ConcurrentQueue<ReturnTargetAtRisk> AtRisk { get; } = new();

    public ConcurrentQueue<ReturnOutcomeRecorded> Outcomes { get; } = new();
}

public sealed class ReturnsEventsProbe(ReturnsEvents events) : IConsumer<DepartureSuspended>, IConsumer<DepartureResumed>, IConsumer<ReturnPlanned>,
    IConsumer<Departed>, IConsumer<MonitoringCheckIn>, IConsumer<MonitoringCheckInOverdue>, IConsumer<ReturnTargetAtRisk>, IConsumer<ReturnOutcomeRecorded>
{
    public Task Consume(ConsumeContext<DepartureSuspended> context) => Add(events.Suspended, context.Message);

    public Task Consume(ConsumeContext<DepartureResumed> context) => Add(events.Resumed, context.Message);

    public Task Consume(ConsumeContext<ReturnPlanned> context) => Add(events.Planned, context.Message);

    public Task Consume(ConsumeContext<Departed> context) => Add(events.Departed, context.Message);

    public Task Consume(ConsumeContext<MonitoringCheckIn> context) => Add(events.CheckIns, context.Message);

    public Task Consume(ConsumeContext<MonitoringCheckInOverdue> context) => Add(events.Overdue, context.Message);

    public Task Consume(ConsumeContext<ReturnTargetAtRisk> context) => Add(events.AtRisk, context.Message);

    public Task Consume(ConsumeContext<ReturnOutcomeRecorded> context) => Add(events.Outcomes, context.Message);

    private static Task Add<T>(ConcurrentQueue<T> queue, T message)
    {
        queue.Enqueue(message);
        return Task.CompletedTask;
    }
}

/// <summary>Return coordination on a database of the test's choosing and the in-process bus, with a listener for its events and a clock the test moves.</summary>
public static class ReturnsHost
{
    public static Task<ComponentHost> StartAsync(Dictionary<string, string?> settings, ReturnsEvents events, TimeProvider clock, string? ownedDirectory = null)
    {
        settings["Messaging:Transport"] = "InMemory";
        // Looks at deadlines often, so a moved clock is noticed within a test.
        settings["Returns:Deadlines:CheckInterval"] = "00:00:00.100";
        return ComponentHost.StartAsync(new ReturnsComponent(), settings, (services, bus) =>
        {
            services.AddSingleton(events);
            services.AddSingleton(clock);
            bus.AddConsumer<ReturnsEventsProbe>();
        }, ownedDirectory);
    }

    public static CallOptions As(string partner) => ComponentHost.As(partner);

    public static ReturnCoordination.ReturnCoordinationClient Returns(this ChannelBase channel) => new(channel);

    public static Date Day(DateOnly day) => new() { Year = day.Year, Month = day.Month, Day = day.Day };

    public static Money Euro(int euros) => new() { CurrencyCode = "EUR", AmountMinorUnits = euros * 100L };

    /// <summary>The registry telling the chain of a residence position, as its outbox would.</summary>
    public static ResidenceStatusRecorded Residence(string registrationId, long version, ResidenceDecision temporary) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        RegistrationId = registrationId,
        RegistrationVersion = version,
        LegalStay = temporary == ResidenceDecision.Granted ? LegalStay.TraffickingVictimPermit : LegalStay.Irregular,
        TemporaryResidenceDecision = temporary,
    };

    /// <summary>The registry telling the chain of the victim's written consent for IOM to tell CoMensha about the return.</summary>
    public static ConsentChanged ReturnConsent(string consentId, string registrationId, ConsentState state = ConsentState.Given, ConsentForm form = ConsentForm.Written,
        PartnerType recipient = PartnerType.Comensha, DisclosureTopic topic = DisclosureTopic.Return, Date? validUntil = null) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        ConsentId = consentId,
        RegistrationId = registrationId,
        Giver = ConsentGiver.Victim,
        DisclosingPartner = PartnerType.Iom,
        RecipientPartner = recipient,
        Topics = { topic },
        Form = form,
        State = state,
        ValidUntil = validUntil,
    };

    public static async Task<T> EventuallyAsync<T>(Func<T?> find) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (find() is not { } found)
        {
            Assert.True(DateTime.UtcNow < deadline, "the awaited event did not come");
            await Task.Delay(25);
        }
        return find()!;
    }

    /// <summary>One round of the deadline watch, as the service runs it, so a test sees exactly what a round raises.</summary>
    public static async Task<(int AtRisk, int Overdue)> RunDeadlinesAsync(ComponentHost host)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ReturnDeadlines>().RunAsync(CancellationToken.None);
    }
}
