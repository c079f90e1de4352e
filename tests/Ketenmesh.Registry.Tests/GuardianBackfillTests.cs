using Chain.Common.V1;
using Chain.Registry.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Persistence;
using Ketenmesh.Persistence.Migrations;
using Ketenmesh.Registry.Persistence;
using Ketenmesh.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Registry.Tests;

/// <summary>
/// Registrations stored before the guardian had a column of its own are found by ListWards too: the migration that
/// adds it fills it in from each stored record, by the rule the registry writes it with.
/// </summary>
public sealed class GuardianBackfillTests
{
    private static Registration Stored(string id, PersonProfile person, VictimStatus status = VictimStatus.Possible, RegistrationClosureReason closure = RegistrationClosureReason.Unspecified) => new()
    {
        RegistrationId = id, Version = 1, Status = status, ClosureReason = closure, Person = person,
        RegisteredAt = Timestamp.FromDateTime(new DateTime(2025, 5, 1, 12, 0, 0, DateTimeKind.Utc)),
    };

    private static Nationality Documented(string code) => new() { CountryCode = code, Basis = NationalityBasis.Documented };

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Upgrading_names_Nidos_guardian_of_the_foreign_minors_already_registered_and_of_no_one_else(DatabaseProvider provider)
    {
        TestDatabase? postgres = null;
        var directory = Directory.CreateTempSubdirectory("ketenmesh-registry-backfill-").FullName;
        var settings = provider == DatabaseProvider.Postgres
            ? (postgres = await TestDatabase.CreateAsync("registry_backfill")).Settings("Database")
            : new Dictionary<string, string?> { ["Database:Provider"] = "Sqlite", ["Database:ConnectionString"] = $"Data Source={Path.Combine(directory, "registry.db")}" };
        try
        {
            var released = RegistrySchema.Migrations.TakeWhile(m => m.Id != "registry-0005-guardians").ToArray();
            await using (var before = Services(settings, released))
            {
                await before.GetRequiredService<SchemaMigrator<RegistryDbContext>>().MigrateAsync();
                await InsertAsync(before, Stored("reg-amv", new PersonProfile { AgeAtRegistration = 15, Minor = true, Nationalities = { Documented("ER") } }));
                await InsertAsync(before, Stored("reg-adult", new PersonProfile { AgeAtRegistration = 30, Nationalities = { Documented("ER") } }));
                await InsertAsync(before, Stored("reg-dutch-minor", new PersonProfile { AgeAtRegistration = 15, Minor = true, Nationalities = { Documented("NL") } }));
                await InsertAsync(before, Stored("reg-merged-amv", new PersonProfile { AgeAtRegistration = 15, Minor = true }, VictimStatus.Closed, RegistrationClosureReason.Merged));
            }

            await using var after = Services(settings, RegistrySchema.Migrations);
            var applied = await after.GetRequiredService<SchemaMigrator<RegistryDbContext>>().MigrateAsync();
            await using var scope = after.CreateAsyncScope();
            var guardians = await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Registrations
                .ToDictionaryAsync(r => r.RegistrationId, r => (PartnerType)r.Guardian);

            Assert.Equal(["registry-0005-guardians"], applied);
            Assert.Equal(PartnerType.Nidos, guardians["reg-amv"]);
            Assert.Equal(PartnerType.Unspecified, guardians["reg-adult"]);
            Assert.Equal(PartnerType.Unspecified, guardians["reg-dutch-minor"]);
            // A merged registration lives on in its survivor, which is listed in its stead.
            Assert.Equal(PartnerType.Unspecified, guardians["reg-merged-amv"]);
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings, SchemaMigration[] migrations)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddChainDbContext<RegistryDbContext>(configuration);
        services.AddSchemaMigrations<RegistryDbContext>(migrations);
        return services.BuildServiceProvider();
    }

    /// <summary>A row as the registry wrote it before the guardian column: by SQL, since the model already has the column.</summary>
    private static async Task InsertAsync(ServiceProvider services, Registration registration)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        await db.Database.ExecuteSqlInterpolatedAsync($"INSERT INTO registrations (registration_id, status, version, data, registered_at) VALUES ({registration.RegistrationId}, {(int)registration.Status}, {registration.Version}, {registration.ToByteArray()}, {registration.RegisteredAt.ToDateTime()})");
    }
}
