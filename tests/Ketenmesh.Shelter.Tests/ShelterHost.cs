using System.Collections.Concurrent;
using Chain.Events.V1;
using Chain.Shelter.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Shelter.Tests;

/// <summary>What the shelter service told the chain.</summary>
public sealed class ShelterEvents
{
    public ConcurrentQueue<ShelterCapacityChanged> CapacityChanged { get; } = new();

    public ConcurrentQueue<PlacementConfirmed> Confirmed { get; } = new();

    public ConcurrentQueue<PlacementReleased> Released { get; } = new();

    public ConcurrentQueue<LargeGroupHeld> GroupHeld { get; } = new();

    public ConcurrentQueue<LargeGroupReleased> GroupReleased { get; } = new();

    public ConcurrentQueue<PlacementRequested> Requested { get; } = new();
}

public sealed class ShelterEventsProbe(ShelterEvents events)
    : IConsumer<ShelterCapacityChanged>, IConsumer<PlacementConfirmed>, IConsumer<PlacementReleased>, IConsumer<LargeGroupHeld>, IConsumer<LargeGroupReleased>,
        IConsumer<PlacementRequested>
{
    public Task Consume(ConsumeContext<PlacementRequested> context)
    {
        events.Requested.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ShelterCapacityChanged> context)
    {
        events.CapacityChanged.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<PlacementConfirmed> context)
    {
        events.Confirmed.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<PlacementReleased> context)
    {
        events.Released.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<LargeGroupHeld> context)
    {
        events.GroupHeld.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<LargeGroupReleased> context)
    {
        events.GroupReleased.Enqueue(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>Counts the SELECTs that read <paramref name="table"/> on the connections of one replica.</summary>
public sealed class TableReads(string table) : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public override Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> ReaderExecuting(
        System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result)
    {
        Note(command);
        return result;
    }

    public override ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
        System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Note(command);
        return ValueTask.FromResult(result);
    }

    private void Note(System.Data.Common.DbCommand command)
    {
        var text = command.CommandText.TrimStart();
        if (text.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) && text.Contains(table, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _count);
        }
    }
}

/// <summary>Starting the shelter component for a test, on SQLite or PostgreSQL, with a movable clock and an events probe.</summary>
public static class ShelterHost
{
    public static Task<ComponentHost> StartAsync(Dictionary<string, string?> settings, MovableClock clock, ShelterEvents events, Action<IServiceCollection>? configure = null)
    {
        settings["Messaging:Transport"] = "InMemory";
        settings.TryAdd("Shelter:Placement:ExpiryInterval", "00:00:00.100");
        settings.TryAdd("Shelter:Watch:CatchUpInterval", "00:00:00.200");
        // Purges often, so a moved clock is noticed within a test.
        settings.TryAdd("Shelter:Watch:PurgeInterval", "00:00:00.500");
        return ComponentHost.StartAsync(new ShelterComponent(), settings, (services, bus) =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddSingleton(events);
            bus.AddConsumer<ShelterEventsProbe>();
            configure?.Invoke(services);
        });
    }

    public static CallOptions As(string partner) => ComponentHost.As(partner);

    public static BedCount Beds(ShelterCategory category, int total, int occupied) => new() { Category = category, TotalBeds = total, OccupiedBeds = occupied };

    /// <summary>The shelter reports on the version it last read, as a shelter's own system would.</summary>
    public static async Task<CapacitySnapshot> ReportAsync(ChannelBase channel, string shelterId, params BedCount[] beds)
    {
        var client = channel.Shelter();
        var current = (await client.GetCapacityAsync(new GetCapacityRequest { ShelterId = shelterId }, As(shelterId))).Overview.Capacity;
        return (await client.ReportCapacityAsync(new ReportCapacityRequest { ExpectedVersion = current.Version, Beds = { beds } }, As(shelterId))).Capacity;
    }

    public static RequestPlacementRequest Placement(string clientRequestId, ShelterCategory category, string registrationId = "reg-1", string preferred = "") => new()
    {
        ClientRequestId = clientRequestId,
        RegistrationId = registrationId,
        PreferredShelterId = preferred,
        Needs = new PlacementNeeds
        {
            Category = category,
            Urgency = PlacementUrgency.Immediate,
            // A COSM request says which bed it needs when not admitted.
            FallbackCategory = category == ShelterCategory.Cosm ? ShelterCategory.AdultWomen : ShelterCategory.Unspecified,
        },
    };

    /// <summary>An announcement ahead of an action: the group expected, when, and for how long it needs shelter.</summary>
    public static RequestLargeGroupShelterRequest LargeGroup(string clientRequestId, DateTimeOffset expectedAt, TimeSpan duration, string municipalityCode, params (ShelterCategory Category, int Persons)[] composition) => new()
    {
        ClientRequestId = clientRequestId,
        OperationReference = $"op-{clientRequestId}",
        Municipality = new Chain.Common.V1.Municipality { Code = municipalityCode },
        Form = Chain.Common.V1.FormOfExploitation.Labour,
        ExpectedComposition = { composition.Select(c => new GroupComposition { Category = c.Category, Persons = c.Persons }) },
        ExpectedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(expectedAt),
        RequestedDuration = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(duration),
    };
}
