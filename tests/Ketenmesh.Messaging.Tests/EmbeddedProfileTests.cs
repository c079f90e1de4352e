using System.Diagnostics;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Messaging.Tests.Chain;
using Ketenmesh.Messaging.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Messaging.Tests;

/// <summary>The embedded profile: InMemory transport and SQLite files, two components in one process.</summary>
public sealed class EmbeddedProfileTests(ITestOutputHelper output) : IDisposable
{
    readonly SqliteFiles _files = new("embedded");

    [Fact]
    public async Task Signals_travel_two_hops_through_outboxes_and_inboxes_exactly_once()
    {
        const int signals = 300;
        const int paced = 100;
        var settings = TestHosts.Merge(
            [new("Messaging:Transport", "InMemory")],
            _files.Settings(Components.IntakeDatabase, "intake.db"),
            _files.Settings(Components.RegistryDatabase, "registry.db"));
        var host = await TestHosts.StartAsync(output, "embedded", settings, Components.Intake, Components.Registry);
        try
        {
            var probe = host.Services.GetRequiredService<RegistryProbe>();
            probe.RaiseVictimRegistered = true;

            // The trace of the request that recorded the signals must reach both hops.
            using var request = new Activity("intake request").Start();
            var burst = Stopwatch.StartNew();
            for (var number = 1; number <= signals; number++)
            {
                await IntakeDesk.RecordAsync(host.Services, $"sig-{number:D4}", number);
            }

            var arrived = await TestHosts.WaitUntilAsync(
                async () => await CountAsync(host.Services, Registration.Placement) >= signals,
                TimeSpan.FromSeconds(60));
            burst.Stop();

            // Latency at a steady pace (a burst only measures its own queue): 50 signals/s.
            probe.EndToEndLatencies.Clear();
            for (var number = signals + 1; number <= signals + paced; number++)
            {
                await IntakeDesk.RecordAsync(host.Services, $"sig-{number:D4}", number);
                await Task.Delay(20);
            }

            arrived &= await TestHosts.WaitUntilAsync(
                async () => await CountAsync(host.Services, Registration.Placement) >= signals + paced,
                TimeSpan.FromSeconds(30));
            request.Stop();
            await Task.Delay(500); // any late duplicate would land now

            await using var scope = host.Services.CreateAsyncScope();
            var registry = scope.ServiceProvider.GetRequiredService<RegistryDb>();
            var victims = await registry.Registrations.Where(r => r.Kind == Registration.Victim).ToListAsync();
            var placements = await registry.Registrations.Where(r => r.Kind == Registration.Placement).ToListAsync();
            var latencies = probe.EndToEndLatencies.OrderBy(l => l).ToList();
            output.WriteLine($"embedded: {signals + paced} signals recorded, {victims.Count} registrations, {placements.Count} placements, " +
                $"{probe.Duplicates} duplicates skipped; burst of {signals} through two hops in {burst.Elapsed.TotalMilliseconds:F0} ms; " +
                $"two-hop latency at 50/s p50 {Percentile(latencies, 0.50):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms");

            Assert.True(arrived, $"only {placements.Count} of {signals + paced} placements arrived");
            Assert.Equal(signals + paced, victims.Count);
            Assert.Equal(signals + paced, victims.Select(v => v.SignalId).Distinct().Count());
            Assert.Equal(signals + paced, placements.Count);
            Assert.Equal(signals + paced, placements.Select(p => p.SignalId).Distinct().Count());
            Assert.All(victims.Concat(placements), r => Assert.Equal(request.TraceId.ToString(), r.TraceId));
            var intake = scope.ServiceProvider.GetRequiredService<IntakeDb>();
            Assert.Equal(0, await intake.Set<OutboxMessage>().CountAsync(m => m.DispatchedAt == null));
        }
        finally
        {
            await host.ShutdownAsync();
        }
    }

    internal static async Task<int> CountAsync(IServiceProvider services, string kind)
    {
        await using var scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RegistryDb>().Registrations.CountAsync(r => r.Kind == kind);
    }

    internal static double Percentile(IReadOnlyList<TimeSpan> sorted, double percentile) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile * sorted.Count) - 1)].TotalMilliseconds;

    public void Dispose() => _files.Dispose();
}
