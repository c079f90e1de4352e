using Chain.Events.V1;
using Chain.Registry.V1;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using Ketenmesh.Persistence;
using Ketenmesh.Registry.Consumers;
using Ketenmesh.Registry.Domain;
using Ketenmesh.Registry.Grpc;
using Ketenmesh.Registry.Persistence;

namespace Ketenmesh.Registry;

/// <summary>Victim registry: port 8102, its own database; registers assessed signals and records shelter placements (inbox), and publishes through its outbox.</summary>
public sealed class RegistryComponent : IMeshComponent
{
    public string Name => "registry";

    public int DefaultPort => 8102;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddChainDbContext<RegistryDbContext>(configuration);
        services.AddSchemaMigrations<RegistryDbContext>(RegistrySchema.Migrations);
        services.AddChainMessaging(configuration, Name)
            .AddEvents(SignalsEventsReflection.Descriptor)
            .AddEvents(RiskEventsReflection.Descriptor)
            .AddEvents(ShelterEventsReflection.Descriptor)
            .Publishes(RegistryEventsReflection.Descriptor)
            .Publishes(RegistryLegalEventsReflection.Descriptor)
            .AddOutbox<RegistryDbContext>()
            .AddInbox<RegistryDbContext>()
            .AddConsumer<SignalReceivedConsumer>()
            .AddConsumer<RiskAssessedConsumer>()
            .AddConsumer<PlacementConfirmedConsumer>()
            .AddConsumer<PlacementReleasedConsumer>();
        services.AddSingleton(TimeProvider.System);
        services.AddScoped<RegistrationStore>();
        services.AddScoped<Registrations>();
        services.AddScoped<ReflectionAndResidence>();
        services.AddScoped<ReflectionReminders>();
        services.AddScoped<Linkage>();
        services.AddScoped<Consents>();
        services.AddScoped<ShelterPlacements>();
        services.AddScoped<Statistics>();
        services.AddScoped<Wards>();
        services.Configure<ReflectionOptions>(configuration.GetSection("Registry:ReflectionPeriod"));
        services.AddHostedService<ReflectionPeriodWatch>();
        services.Configure<PendingSignalOptions>(configuration.GetSection("Registry:PendingSignals"));
        services.AddHostedService<PendingSignalPurge>();
        services.Configure<PlacementReleaseOptions>(configuration.GetSection("Registry:PlacementReleases"));
        services.AddHostedService<PlacementReleasePurge>();
        services.AddScoped<VictimRegistryService>();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<VictimRegistryService>();
}
