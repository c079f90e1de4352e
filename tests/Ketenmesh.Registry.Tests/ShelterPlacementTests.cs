using Chain.Events.V1;
using Chain.Registry.V1;
using Chain.Shelter.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Registry.Persistence;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>The registry records on a registration where the person is placed, from the shelter service's PlacementConfirmed and PlacementReleased.</summary>
public sealed class ShelterPlacementTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Confirmed = new(2026, 3, 2, 9, 30, 0, TimeSpan.Zero);
    private ComponentHost _host = null!;

    public async Task InitializeAsync() => _host = await ComponentHost.StartEmbeddedAsync(new RegistryComponent());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static PlacementConfirmed Confirmation(string registrationId, string placementId, string shelterId = "shelter-jade", DateTimeOffset? at = null) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        OccurredAt = Timestamp.FromDateTimeOffset(at ?? Confirmed),
        PlacementId = placementId,
        RegistrationId = registrationId,
        ShelterId = shelterId,
        Category = ShelterCategory.Cosm,
    };

    private static PlacementReleased Release(string registrationId, string placementId, string shelterId = "shelter-jade") => new()
    {
        EventId = Guid.NewGuid().ToString(),
        OccurredAt = Timestamp.FromDateTimeOffset(Confirmed.AddDays(20)),
        PlacementId = placementId,
        RegistrationId = registrationId,
        ShelterId = shelterId,
        Category = ShelterCategory.Cosm,
        State = PlacementState.Ended,
    };

    private async Task<Registration> ReadAsync(string id) => (await _host.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = id }, As("comensha"))).Registration;

    /// <summary>Publishes as the shelter service's outbox would, and waits until the registry's inbox holds it: applied and committed, not failed.</summary>
    private async Task DeliveredAsync<T>(T message, Guid? messageId = null) where T : class
    {
        var id = messageId ?? Guid.NewGuid();
        await _host.PublishAsync(message, id);
        await Eventually.SucceedsAsync(async () =>
        {
            await using var scope = _host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            Assert.True(await db.Set<InboxMessage>().AnyAsync(m => m.MessageId == id));
        });
    }

    [Fact]
    public async Task A_confirmed_placement_is_recorded_once_and_its_release_clears_it()
    {
        var registration = await RegisterAsync(_host.Channel, "plc-1");
        var confirmation = Confirmation(registration.RegistrationId, "plc-a");
        var messageId = Guid.NewGuid();

        await DeliveredAsync(confirmation, messageId);
        var placed = await ReadAsync(registration.RegistrationId);
        // The same message again (a redelivery), and a second copy under a new message id (an outbox that crashed after publishing).
        await _host.PublishAsync(confirmation, messageId);
        await DeliveredAsync(confirmation);
        var again = await ReadAsync(registration.RegistrationId);
        await DeliveredAsync(Release(registration.RegistrationId, "plc-a"));
        var released = await ReadAsync(registration.RegistrationId);

        Assert.Null(registration.ShelterPlacement);
        Assert.Equal(new ShelterPlacement { ShelterId = "shelter-jade", PlacementId = "plc-a", Since = Timestamp.FromDateTimeOffset(Confirmed) }, placed.ShelterPlacement);
        Assert.Equal(registration.Version + 1, placed.Version);
        Assert.Equal(placed, again);
        Assert.Null(released.ShelterPlacement);
        Assert.Equal(placed.Version + 1, released.Version);
    }

    [Fact]
    public async Task A_confirmation_arriving_after_its_release_or_after_a_later_placement_records_nothing()
    {
        var first = await RegisterAsync(_host.Channel, "plc-2");
        var second = await RegisterAsync(_host.Channel, "plc-3");

        // Two queues, either order: the release of plc-b comes before its confirmation.
        await DeliveredAsync(Release(first.RegistrationId, "plc-b"));
        await DeliveredAsync(Confirmation(first.RegistrationId, "plc-b"));
        // A move to another shelter: the new placement's confirmation comes before the old one's.
        await DeliveredAsync(Confirmation(second.RegistrationId, "plc-d", "shelter-acm", Confirmed.AddDays(3)));
        await DeliveredAsync(Confirmation(second.RegistrationId, "plc-c"));
        await DeliveredAsync(Release(second.RegistrationId, "plc-c"));

        Assert.Null((await ReadAsync(first.RegistrationId)).ShelterPlacement);
        var moved = (await ReadAsync(second.RegistrationId)).ShelterPlacement;
        Assert.Equal(("shelter-acm", "plc-d"), (moved.ShelterId, moved.PlacementId));
    }

    [Fact]
    public async Task A_placement_for_a_registration_the_registry_does_not_keep_is_ignored_without_failing_the_consumer()
    {
        await DeliveredAsync(Confirmation("reg-unknown", "plc-e"));
        await DeliveredAsync(Release("reg-unknown", "plc-e"));
        var registration = await RegisterAsync(_host.Channel, "plc-4");
        await DeliveredAsync(Confirmation(registration.RegistrationId, "plc-f"));

        await using var scope = _host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        Assert.False(await db.Registrations.AnyAsync(r => r.RegistrationId == "reg-unknown"));
        Assert.False(await db.PlacementReleases.AnyAsync(r => r.PlacementId == "plc-e"));
        Assert.Equal("plc-f", (await ReadAsync(registration.RegistrationId)).ShelterPlacement.PlacementId);
    }

    [Fact]
    public async Task A_merge_carries_the_placement_to_the_survivor_and_its_release_clears_it_on_both()
    {
        var survivor = await RegisterAsync(_host.Channel, "plc-5");
        var duplicate = await RegisterAsync(_host.Channel, "plc-6");
        await DeliveredAsync(Confirmation(duplicate.RegistrationId, "plc-g"));

        var merged = (await _host.Channel.Registry().MergeRegistrationsAsync(new MergeRegistrationsRequest
        {
            ClientRequestId = "plc-merge",
            SurvivingRegistrationId = survivor.RegistrationId,
            MergedRegistrationIds = { duplicate.RegistrationId },
            Reason = MergeReason.DuplicateReport,
        }, As("comensha"))).Registration;
        // The shelter service knows the person by the merged registration still.
        await DeliveredAsync(Release(duplicate.RegistrationId, "plc-g"));
        await DeliveredAsync(Confirmation(duplicate.RegistrationId, "plc-h", "shelter-pmw", Confirmed.AddDays(30)));

        Assert.Equal("plc-g", merged.ShelterPlacement.PlacementId);
        Assert.Null((await ReadAsync(duplicate.RegistrationId)).ShelterPlacement);
        var now = (await ReadAsync(survivor.RegistrationId)).ShelterPlacement;
        Assert.Equal(("shelter-pmw", "plc-h"), (now.ShelterId, now.PlacementId));
    }
}
