using Ketenmesh.Messaging.Tests.Events;
using Ketenmesh.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Messaging.Tests.Chain;

/// <summary>
/// The registrations two services would make in their Program.cs. Each calls AddChainMessaging
/// itself; in the embedded profile both run in one host and share its bus.
/// </summary>
static class Components
{
    public const string IntakeDatabase = "IntakeDatabase";
    public const string RegistryDatabase = "RegistryDatabase";

    public static void Intake(IServiceCollection services, IConfiguration configuration)
    {
        services.AddChainDbContext<IntakeDb>(configuration, IntakeDatabase);
        services.AddSchemaMigrations<IntakeDb>(IntakeDb.Migrations);
        services.AddChainMessaging(configuration, "intake")
            .AddEvents(TestEventsReflection.Descriptor)
            .Publishes(SignalRecorded.Descriptor)
            .AddOutbox<IntakeDb>();
    }

    public static void Registry(IServiceCollection services, IConfiguration configuration)
    {
        services.AddChainDbContext<RegistryDb>(configuration, RegistryDatabase);
        services.AddSchemaMigrations<RegistryDb>(RegistryDb.Migrations);
        services.AddSingleton<RegistryProbe>();
        services.AddChainMessaging(configuration, "registry")
            .AddEvents(TestEventsReflection.Descriptor)
            .Publishes(VictimRegistered.Descriptor)
            .AddOutbox<RegistryDb>()
            .AddInbox<RegistryDb>()
            .AddConsumer<SignalRegistration>()
            .AddConsumer<PlacementRequest>();
    }
}
