using Chain.Events.V1;
using Chain.Risk.V1;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using Ketenmesh.Persistence;
using Ketenmesh.Risk.Consumers;
using Ketenmesh.Risk.Domain;
using Ketenmesh.Risk.Grpc;
using Ketenmesh.Risk.Persistence;

namespace Ketenmesh.Risk;

/// <summary>Risk assessment: port 8103, its own database; consumes SignalReceived, publishes RiskAssessed through its outbox.</summary>
public sealed class RiskComponent : IMeshComponent
{
    public string Name => "risk";

    public int DefaultPort => 8103;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddChainDbContext<RiskDbContext>(configuration);
        services.AddSchemaMigrations<RiskDbContext>(RiskSchema.Migrations);
        services.AddChainMessaging(configuration, Name)
            .AddEvents(SignalsEventsReflection.Descriptor)
            .Publishes(RiskEventsReflection.Descriptor)
            .AddOutbox<RiskDbContext>()
            .AddInbox<RiskDbContext>()
            .AddConsumer<SignalReceivedConsumer>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(RuleSetLibrary.Embedded());
        services.AddScoped<Assessor>();
        services.AddScoped<RiskAssessmentService>();
        services.AddRiskRequestValidators();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<RiskAssessmentService>();
}
