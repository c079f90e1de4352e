using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Risk.V1;
using Ketenmesh.Registry.Persistence;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>The signals the registry heard of are not kept for ever: decided ones for 30 days, ones kept on file for a year.</summary>
public sealed class PendingSignalRetentionTests : IAsyncLifetime
{
    private readonly MovableClock _clock = new(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero));
    private RegistryHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync(_clock);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task PublishAsync(string signalId, PartnerType reporter)
    {
        await _host.PublishAsync(new SignalReceived
        {
            EventId = Guid.NewGuid().ToString(), SignalId = signalId, ReporterPartner = reporter, SuspectedForm = FormOfExploitation.Labour, PersonLinkKeys = { Key() },
        });
        await _host.PublishAsync(new RiskAssessed { EventId = Guid.NewGuid().ToString(), SignalId = signalId, AssessmentId = $"as-{signalId}", Band = RiskBand.Low });
    }

    private async Task<List<PendingSignalRow>> PendingAsync()
    {
        await using var scope = _host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().PendingSignals.AsNoTracking().ToListAsync();
    }

    [Fact]
    public async Task A_decided_signal_is_forgotten_after_30_days_and_one_kept_on_file_after_a_year()
    {
        // The police have the duty to report, so theirs is registered (decided); a municipality's low one is kept on file.
        await PublishAsync("sig-decided", PartnerType.Police);
        await PublishAsync("sig-on-file", PartnerType.Municipality);
        await EventuallyAsync(() => _host.Events.Registered.FirstOrDefault(e => e.SourceSignalIds.Contains("sig-decided")));
        await Eventually.SucceedsAsync(async () =>
        {
            var pending = await PendingAsync();
            Assert.Contains(pending, p => p is { SignalId: "sig-decided", Decided: true });
            Assert.Contains(pending, p => p is { SignalId: "sig-on-file", Decided: false, Received: not null, Assessed: not null });
        });

        _clock.Advance(TimeSpan.FromDays(31));
        // One statement purges both kinds: once the decided one is gone, the one on file was looked at too.
        await Eventually.SucceedsAsync(async () => Assert.DoesNotContain(await PendingAsync(), p => p.SignalId == "sig-decided"));
        Assert.Contains(await PendingAsync(), p => p.SignalId == "sig-on-file");

        _clock.Advance(TimeSpan.FromDays(335));
        await Eventually.SucceedsAsync(async () => Assert.Empty(await PendingAsync()));
    }
}
