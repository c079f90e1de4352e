using Chain.Events.V1;
using Chain.Signals.V1;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using Ketenmesh.Persistence;
using Ketenmesh.Signals.Consumers;
using Ketenmesh.Signals.Domain;
using Ketenmesh.Signals.Grpc;
using Ketenmesh.Signals.Persistence;

namespace Ketenmesh.Signals;

/// <summary>Signal intake: port 8101, its own database; publishes SignalReceived through its outbox and writes what the chain did with each signal back onto it (inbox): assessed, registered or linked, moved by a merge, closed.</summary>
public sealed class SignalsComponent : IMeshComponent
{
    public string Name => "signals";

    public int DefaultPort => 8101;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddChainDbContext<SignalsDbContext>(configuration);
        services.AddSchemaMigrations<SignalsDbContext>(SignalsSchema.Migrations);
        services.AddChainMessaging(configuration, Name)
            .Publishes(SignalsEventsReflection.Descriptor)
            .AddEvents(RiskEventsReflection.Descriptor)
            .AddEvents(RegistryEventsReflection.Descriptor)
            .AddOutbox<SignalsDbContext>()
            .AddInbox<SignalsDbContext>()
            .AddConsumer<RiskAssessedConsumer>()
            .AddConsumer<VictimRegisteredConsumer>()
            .AddConsumer<VictimStatusChangedConsumer>()
            .AddConsumer<RegistrationsMergedConsumer>()
            .AddConsumer<SignalLinkedConsumer>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SignalStatusFeed>();
        services.AddScoped<Domain.SignalIntake>();
        services.AddScoped<SignalFeedback>();
        services.AddScoped<SignalWatch>();
        services.Configure<SignalWatchOptions>(configuration.GetSection("Signals:Watch"));
        services.AddHostedService<StatusHistoryPurge>();
        services.AddScoped<SignalIntakeService>();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<SignalIntakeService>();
}
