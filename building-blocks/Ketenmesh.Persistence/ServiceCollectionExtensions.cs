using Ketenmesh.Persistence.Migrations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Ketenmesh.Persistence;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers a service's DbContext on the profile chosen in configuration and applies its schema
    /// migrations when the host starts.
    /// </summary>
    /// <param name="sectionName">Lets a service with two databases give each its own section.</param>
    public static IServiceCollection AddChainDbContext<TContext>(
        this IServiceCollection services,
        IConfiguration configuration,
        string sectionName = DatabaseOptions.SectionName)
        where TContext : DbContext
    {
        var database = DatabaseOptions.FromConfiguration(configuration.GetSection(sectionName), typeof(TContext).Name.ToLowerInvariant());
        services.AddDbContext<TContext>(database.Apply);
        services.AddOptions<SchemaMigrationOptions<TContext>>();
        services.TryAddTransient<SchemaMigrator<TContext>>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SchemaMigrationHostedService<TContext>>());
        var check = $"database:{typeof(TContext).Name}";
        if (!services.Any(d => d.ServiceType == typeof(DatabaseHealthCheck<TContext>)))
        {
            services.AddSingleton<DatabaseHealthCheck<TContext>>();
            services.AddHealthChecks().AddCheck<DatabaseHealthCheck<TContext>>(check, HealthStatus.Unhealthy, [Readiness.Tag], TimeSpan.FromSeconds(3));
        }

        return services;
    }

    /// <summary>
    /// Appends migrations to the context's ordered list. Building blocks (outbox, inbox) and the
    /// service itself each add theirs; ids must be unique within one database.
    /// </summary>
    public static IServiceCollection AddSchemaMigrations<TContext>(this IServiceCollection services, params SchemaMigration[] migrations)
        where TContext : DbContext
    {
        services.Configure<SchemaMigrationOptions<TContext>>(options =>
        {
            foreach (var migration in migrations)
            {
                var existing = options.Migrations.Find(m => m.Id == migration.Id);
                if (ReferenceEquals(existing, migration))
                {
                    // A building block registered twice (two AddOutbox calls) is harmless.
                    continue;
                }

                if (existing is not null)
                {
                    throw new InvalidOperationException($"Two different schema migrations share the id '{migration.Id}' for {typeof(TContext).Name}.");
                }

                options.Migrations.Add(migration);
            }
        });
        return services;
    }
}
