using Ketenmesh.Messaging.Inbox;
using Ketenmesh.Messaging.Tests.Chain;
using Ketenmesh.Messaging.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ketenmesh.Messaging.Tests;

public sealed class InboxCleanupTests(ITestOutputHelper output) : IDisposable
{
    readonly SqliteFiles _files = new("inbox");

    [Fact]
    public async Task Inbox_rows_older_than_the_retention_period_are_purged_and_newer_ones_kept()
    {
        var settings = TestHosts.Merge(
            [new("Messaging:Transport", "InMemory"), new("Messaging:Inbox:RetentionPeriod", "1.00:00:00")],
            _files.Settings(Components.RegistryDatabase, "registry.db"));
        var host = await TestHosts.StartAsync(output, "registry", settings, Components.Registry);
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

    public void Dispose() => _files.Dispose();
}
