using Ketenmesh.Audit.Chain;
using Ketenmesh.Audit.Reading;
using Ketenmesh.Audit.Storage;
using Ketenmesh.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Audit;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// The audit log on the component's own database (<c>Database</c> section) with its checkpoint key
    /// (<c>Audit:KeyFile</c>, default in <c>Mesh:DataDirectory</c>).
    /// </summary>
    public static IServiceCollection AddAuditLog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddChainDbContext<AuditDbContext>(configuration);
        services.AddSchemaMigrations<AuditDbContext>(AuditSchema.Migrations);
        services.AddOptions<AuditOptions>().Bind(configuration.GetSection("Audit"));
        services.AddSingleton(provider => CheckpointSigner.OpenOrCreate(KeyFile(configuration)));
        services.AddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<AuditMetrics>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<IAuditLog>(provider => provider.GetRequiredService<AuditLog>());
        services.AddHostedService(provider => provider.GetRequiredService<AuditLog>());
        services.AddScoped<AuditVerifier>();
        services.AddScoped<AuditReader>();
        services.AddScoped<AuditRetention>();
        services.AddHostedService<ScheduledPurge>();
        return services;
    }

    public static string KeyFile(IConfiguration configuration) =>
        configuration["Audit:KeyFile"] ?? Path.Combine(configuration["Mesh:DataDirectory"] ?? Path.Combine(".mesh", "data"), "audit-checkpoint-key.pkcs8");
}
