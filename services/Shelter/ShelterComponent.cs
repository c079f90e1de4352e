using Chain.Events.V1;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using Ketenmesh.Persistence;
using Ketenmesh.Shelter.Consumers;
using Ketenmesh.Shelter.Domain;
using Ketenmesh.Shelter.Grpc;
using Ketenmesh.Shelter.Persistence;

namespace Ketenmesh.Shelter;

/// <summary>Shelter capacity: port 8104, its own database; publishes capacity and placement events through its outbox.</summary>
public sealed class ShelterComponent : IMeshComponent
{
    public string Name => "shelter";

    public int DefaultPort => 8104;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddChainDbContext<ShelterDbContext>(configuration);
        services.AddSchemaMigrations<ShelterDbContext>(ShelterSchema.Migrations);
        services.AddChainMessaging(configuration, Name)
            .Publishes(ShelterEventsReflection.Descriptor)
            .AddEvents(RegistryEventsReflection.Descriptor)
            .AddOutbox<ShelterDbContext>()
            .AddInbox<ShelterDbContext>()
            .AddConsumer<AdmissionFactsConsumer>()
            .AddConsumer<RegistrationsMergedConsumer>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<CapacityFeed>();
        services.AddSingleton<CapacityStream>();
        services.AddHostedService(provider => provider.GetRequiredService<CapacityStream>());
        services.AddScoped<CapacityBoard>();
        services.AddScoped<CapacityWatch>();
        services.AddScoped<BedOffers>();
        services.AddScoped<Placements>();
        services.AddScoped<LargeGroups>();
        services.Configure<CapacityWatchOptions>(configuration.GetSection("Shelter:Watch"));
        services.Configure<PlacementOptions>(configuration.GetSection("Shelter:Placement"));
        services.Configure<LargeGroupOptions>(configuration.GetSection("Shelter:LargeGroup"));
        services.AddHostedService<HoldExpiry>();
        services.AddHostedService<CapacityLogPurge>();
        services.Configure<ShelterRetentionOptions>(configuration.GetSection("Shelter:Retention"));
        services.AddHostedService<ShelterPurge>();
        services.AddScoped<ShelterCapacityService>();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<ShelterCapacityService>();
}
