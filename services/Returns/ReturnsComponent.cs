using Chain.Events.V1;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using Ketenmesh.Persistence;
using Ketenmesh.Returns.Consumers;
using Ketenmesh.Returns.Domain;
using Ketenmesh.Returns.Grpc;
using Ketenmesh.Returns.Persistence;

namespace Ketenmesh.Returns;

/// <summary>
/// Return coordination: port 8105, its own database. Keeps its own copy of the registry's residence
/// decisions, consents and merges (inbox), never calling the registry, and publishes the return's events
/// through its outbox.
/// </summary>
public sealed class ReturnsComponent : IMeshComponent
{
    public string Name => "returns";

    public int DefaultPort => 8105;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddChainDbContext<ReturnsDbContext>(configuration);
        services.AddSchemaMigrations<ReturnsDbContext>(ReturnsSchema.Migrations);
        services.AddChainMessaging(configuration, Name)
            .AddEvents(RegistryLegalEventsReflection.Descriptor)
            .AddEvents(RegistryEventsReflection.Descriptor)
            .Publishes(ReturnsEventsReflection.Descriptor)
            .AddOutbox<ReturnsDbContext>()
            .AddInbox<ReturnsDbContext>()
            .AddConsumer<ResidenceStatusRecordedConsumer>()
            .AddConsumer<ConsentChangedConsumer>()
            .AddConsumer<RegistrationsMergedConsumer>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(RetraffickingRules.Embedded());
        services.AddScoped<RegistryKnowledge>();
        services.AddScoped<ReturnCases>();
        services.AddScoped<ReturnDeadlines>();
        services.Configure<ReturnDeadlineOptions>(configuration.GetSection("Returns:Deadlines"));
        services.AddHostedService<ReturnDeadlineWatch>();
        services.AddScoped<ReturnCoordinationService>();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<ReturnCoordinationService>();
}
