using Ketenmesh.Audit.Chain;
using Ketenmesh.Audit.Reading;
using Ketenmesh.Audit.Storage;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Audit.Tests;

/// <summary>The audit log hosted for real on SQLite (a file) or PostgreSQL (a database of its own).</summary>
public sealed class AuditHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _directory;
    private readonly TestDatabase? _database;
    private readonly Dictionary<string, string?> _configuration;
    private readonly bool _ownsStorage;

    private AuditHost(IHost host, string directory, TestDatabase? database, Dictionary<string, string?> configuration, bool ownsStorage)
    {
        _host = host;
        _directory = directory;
        _database = database;
        _configuration = configuration;
        _ownsStorage = ownsStorage;
    }

    public AuditLog Log => _host.Services.GetRequiredService<AuditLog>();
    public IServiceProvider Services => _host.Services;

    /// <summary>The log's own PostgreSQL database, to take away and give back.</summary>
    public TestDatabase Database => _database ?? throw new InvalidOperationException("Only a log on PostgreSQL has a database of its own.");

    /// <summary>Every record, in chain order.</summary>
    public Task<List<StoredAuditEntry>> RecordsAsync() => WithScopeAsync(async s =>
    {
        var reader = s.GetRequiredService<AuditReader>();
        var all = new List<StoredAuditEntry>();
        while (await reader.RangeAsync(all.Count == 0 ? 1 : all[^1].Sequence + 1, 10_000) is { Count: > 0 } page)
        {
            all.AddRange(page);
        }
        return all;
    });

    /// <param name="route">Reaches the PostgreSQL database another way (through a proxy): its connection string → the one to use.</param>
    public static async Task<AuditHost> StartAsync(string provider, Dictionary<string, string?>? settings = null, Func<string, string>? route = null)
    {
        var directory = Directory.CreateTempSubdirectory("ketenmesh-audit-").FullName;
        var database = provider == "Postgres" ? await TestDatabase.CreateAsync("audit") : null;
        var configuration = new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = directory,
            ["Database:Provider"] = provider,
            ["Database:ConnectionString"] = database is null ? $"Data Source={Path.Combine(directory, "audit.db")}" : (route ?? (c => c))(database.ConnectionString),
        };
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }
        return new AuditHost(await StartHostAsync(configuration), directory, database, configuration, ownsStorage: true);
    }

    /// <summary>The checkpoint key file this log signs with (Audit:KeyFile's default in its data directory).</summary>
    public string KeyFile => Path.Combine(_directory, "audit-checkpoint-key.pkcs8");

    /// <summary>A second log writer on this one's database and key, as a second gateway would be.</summary>
    public async Task<AuditHost> StartBesideAsync() =>
        new(await StartHostAsync(_configuration), _directory, _database, _configuration, ownsStorage: false);

    private static async Task<IHost> StartHostAsync(Dictionary<string, string?> configuration)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddAuditLog(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public async Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    public Task<AuditVerification> VerifyAsync() => WithScopeAsync(s => s.GetRequiredService<AuditVerifier>().VerifyAsync());

    public Task<AuditReader> Reader() => Task.FromResult(_host.Services.CreateScope().ServiceProvider.GetRequiredService<AuditReader>());

    /// <summary>
    /// Tampering as the table owner could: switch the append-only triggers off, then plain SQL behind
    /// the log's back. What remains to catch it is the hash chain.
    /// </summary>
    public Task<int> TamperAsync(string sql) => WithScopeAsync(async s =>
    {
        var database = s.GetRequiredService<AuditDbContext>().Database;
        if (database.IsNpgsql())
        {
            await database.ExecuteSqlRawAsync("ALTER TABLE audit_records DISABLE TRIGGER USER; ALTER TABLE audit_checkpoints DISABLE TRIGGER USER; ALTER TABLE audit_releases DISABLE TRIGGER USER");
        }
        else
        {
            await database.ExecuteSqlRawAsync(
                "DROP TRIGGER IF EXISTS audit_records_no_delete; DROP TRIGGER IF EXISTS audit_records_purge_only; " +
                "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete; DROP TRIGGER IF EXISTS audit_checkpoints_no_update; " +
                "DROP TRIGGER IF EXISTS audit_releases_no_delete; DROP TRIGGER IF EXISTS audit_releases_no_update;");
        }
        return await database.ExecuteSqlRawAsync(sql);
    });

    /// <summary>An edit as an ordinary database user would try it, with the triggers in place.</summary>
    public Task<int> EditAsync(string sql) => WithScopeAsync(s => s.GetRequiredService<AuditDbContext>().Database.ExecuteSqlRawAsync(sql));

    public async Task StopAsync() => await _host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        if (!_ownsStorage)
        {
            return;
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    public static AuditEntry Entry(int n, string partner = "police", string? subject = null, AuditRecordClass recordClass = AuditRecordClass.Access, DateTimeOffset? time = null) => new(
        time ?? DateTimeOffset.UtcNow,
        partner,
        "criminal_investigation",
        "chain.registry.v1.VictimRegistry/GetRegistration",
        n % 7 == 0 ? AuditDecision.Denied : AuditDecision.Allowed,
        $"decision {n}",
        "police-criminal-investigation",
        "ab12",
        "Wpg art. 8",
        $"{n:x32}",
        subject,
        recordClass);
}
