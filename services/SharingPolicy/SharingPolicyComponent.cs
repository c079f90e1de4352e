using Chain.Policy.V1;
using Ketenmesh.Hosting;
using Ketenmesh.Persistence;
using Ketenmesh.SharingPolicy.Domain;
using Ketenmesh.SharingPolicy.Grpc;
using Ketenmesh.SharingPolicy.Persistence;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Ketenmesh.SharingPolicy;

/// <summary>Sharing policy: port 8082, its own database; privacy officers' admin API and the gateways' distribution feed.</summary>
public sealed class SharingPolicyComponent : IMeshComponent
{
    public string Name => "policy";

    public int DefaultPort => 8082;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddChainDbContext<SharingPolicyDbContext>(configuration);
        services.AddSchemaMigrations<SharingPolicyDbContext>(SharingPolicySchema.Migrations);
        services.AddOptions<SharingPolicyOptions>().Bind(configuration.GetSection("SharingPolicy"));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PrivacyOfficer>();
        services.AddSingleton<PublishedPolicies>();
        services.AddHostedService(provider => provider.GetRequiredService<PublishedPolicies>());
        services.AddHostedService<DefaultPolicySeeding>();
        services.AddScoped<PolicyAdministration>();
        services.AddScoped<SharingPolicyAdminService>();
        services.AddSingleton<PolicyDistributionService>();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<SharingPolicyAdminService>();
        endpoints.MapGrpcService<PolicyDistributionService>();
    }
}
