using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Messaging.Tests.Chain;
using Ketenmesh.Messaging.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ketenmesh.Messaging.Tests;

public sealed class InboxCleanupTests(ITestOutputHelper output) : IAsyncLifetime
{
    readonly string _directory = Path.Combine(Path.GetTempPath(), "ketenmesh-tests", $"inbox-{Guid.NewGuid():N}");

    [Fact]
    public async Task Inbox_rows_older_than_the_retention_period_are_purged_and_newer_ones_kept()
    {
        var host = await TestHosts.StartAsync(output, "registry", new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "InMemory",
            ["Messaging:Inbox:RetentionPeriod"] = "1.00:00:00",
            [$"{Components.RegistryDatabase}:Provider"] = "Sqlite",
            [$"{Components.RegistryDatabase}:ConnectionString"] = $"Data Source={Path.Combine(_directory, "registry.db")}",
        }, Components.Registry);
        try
        {
            var recent = Guid.NewGuid();
            await using (var scope = host.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<RegistryDb>();
                db.Set<InboxMessage>().AddRange(
                    new InboxMessage { MessageId = Guid.NewGuid(), Consumer = "SignalRegistration", ReceivedAt = DateTime.UtcNow.AddDays(-3) },
                    new InboxMessage { MessageId = Guid.NewGuid(), Consumer = "PlacementRequest", ReceivedAt = DateTime.UtcNow.AddHours(-25) },
                    new InboxMessage { MessageId = recent, Consumer = "SignalRegistration", ReceivedAt = DateTime.UtcNow.AddHours(-23) });
                await db.SaveChangesAsync();
            }

            // The background round may get there first; either way only the recent row may be left.
            var cleanup = host.Services.GetServices<IHostedService>().OfType<InboxCleanup<RegistryDb>>().Single();
            await cleanup.DeleteExpiredAsync(CancellationToken.None);

            await using var check = host.Services.CreateAsyncScope();
            var left = await check.ServiceProvider.GetRequiredService<RegistryDb>().Set<InboxMessage>().Select(m => m.MessageId).ToListAsync();
            Assert.Equal([recent], left);
        }
        finally
        {
            await host.ShutdownAsync();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }
}
