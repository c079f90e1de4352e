using Grpc.Core;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Signals.V1;
using Grpc.Net.Client;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Signals.Tests.SignalsHost;

namespace Ketenmesh.Signals.Tests;

/// <summary>The signaller hears back: what the chain did with a signal comes off the bus and onto the signal.</summary>
public sealed class FeedbackTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("ketenmesh-signals-").FullName;
    private SignalsHost _host = null!;

    private ChannelBase Client => _host.Channel;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync(_dataDirectory);

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private async Task<Signal> SubmitAsync(string partner, string requestId) =>
        (await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = requestId, Observation = Observations.LabourInspection() }, As(partner))).Signal;

    private Task PublishAsync<T>(T message, Guid? messageId = null) where T : class =>
        _host.Services.GetRequiredService<IBus>().Publish(message, c => c.MessageId = messageId ?? Guid.NewGuid());

    internal static RiskAssessed Assessed(string signalId, Track track) =>
        new() { EventId = Guid.NewGuid().ToString(), SignalId = signalId, AssessmentId = "as-1", RecommendedTrack = track, Band = Chain.Risk.V1.RiskBand.High };

    internal static VictimRegistered Registered(string registrationId, params string[] signalIds) =>
        new() { EventId = Guid.NewGuid().ToString(), RegistrationId = registrationId, SourceSignalIds = { signalIds } };

    private async Task<Signal> WaitForAsync(string partner, string signalId, Func<Signal, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var signal = (await Client.Intake().GetSignalAsync(new GetSignalRequest { SignalId = signalId }, As(partner))).Signal;
            if (until(signal) || DateTime.UtcNow > deadline)
            {
                return signal;
            }
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task An_assessment_then_a_registration_reach_the_signal_and_its_watcher()
    {
        var signal = await SubmitAsync("inspectorate", "fb-1");
        using var watch = Client.Intake().WatchMySignals(new WatchMySignalsRequest(), As("inspectorate"));
        // The service answers with headers once the watch is in place: nothing after that is missed.
        await watch.ResponseHeadersAsync;

        await PublishAsync(Assessed(signal.SignalId, Track.CriminalInvestigation));
        var assessed = await WaitForAsync("inspectorate", signal.SignalId, s => s.Status == SignalStatus.Assessed);
        await PublishAsync(Registered("reg-7", signal.SignalId));
        var registered = await WaitForAsync("inspectorate", signal.SignalId, s => s.Status == SignalStatus.Registered);
        var changes = new List<SignalStatusChange>();
        while (changes.Count < 2 && await watch.ResponseStream.MoveNext(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token))
        {
            changes.Add(watch.ResponseStream.Current.Change);
        }

        Assert.Equal(SignalStatus.Assessed, assessed.Status);
        Assert.Equal(Track.CriminalInvestigation, assessed.Outcome.Track);
        Assert.Equal(SignalStatus.Registered, registered.Status);
        Assert.Equal("reg-7", registered.Outcome.RegistrationId);
        Assert.Equal(PartnerType.Comensha, registered.Outcome.ReferredTo);
        Assert.Equal(Track.CriminalInvestigation, registered.Outcome.Track);
        Assert.Equal([SignalStatus.Assessed, SignalStatus.Registered], changes.Select(c => c.NewStatus));
        Assert.Equal(SignalStatus.Received, changes[0].PreviousStatus);
    }

    [Fact]
    public async Task Late_news_fills_in_the_outcome_but_never_sets_the_status_back()
    {
        var signal = await SubmitAsync("police", "fb-2");

        await PublishAsync(Registered("reg-8", signal.SignalId));
        await WaitForAsync("police", signal.SignalId, s => s.Status == SignalStatus.Registered);
        await PublishAsync(Assessed(signal.SignalId, Track.Care));
        var after = await WaitForAsync("police", signal.SignalId, s => s.Outcome?.Track == Track.Care);

        Assert.Equal(SignalStatus.Registered, after.Status);
        Assert.Equal(Track.Care, after.Outcome.Track);
        Assert.Equal("reg-8", after.Outcome.RegistrationId);
    }

    [Fact]
    public async Task A_redelivered_event_changes_the_signal_once()
    {
        var signal = await SubmitAsync("police", "fb-3");
        var messageId = Guid.NewGuid();

        await PublishAsync(Assessed(signal.SignalId, Track.Administrative), messageId);
        await PublishAsync(Assessed(signal.SignalId, Track.Administrative), messageId);
        var after = await WaitForAsync("police", signal.SignalId, s => s.Status == SignalStatus.Assessed);
        await Task.Delay(300);
        var settled = (await Client.Intake().GetSignalAsync(new GetSignalRequest { SignalId = signal.SignalId }, As("police"))).Signal;

        Assert.Equal(SignalStatus.Assessed, after.Status);
        Assert.Equal(signal.Version + 1, settled.Version);
    }

    [Fact]
    public async Task One_registration_from_several_signals_tells_each_signaller()
    {
        var police = await SubmitAsync("police", "fb-4");
        var inspection = await SubmitAsync("inspectorate", "fb-5");

        await PublishAsync(Registered("reg-9", police.SignalId, inspection.SignalId));

        Assert.Equal("reg-9", (await WaitForAsync("police", police.SignalId, s => s.Status == SignalStatus.Registered)).Outcome.RegistrationId);
        Assert.Equal("reg-9", (await WaitForAsync("inspectorate", inspection.SignalId, s => s.Status == SignalStatus.Registered)).Outcome.RegistrationId);
    }

    [Fact]
    public async Task A_merge_moves_the_signal_to_the_surviving_registration_and_a_closed_registration_closes_it()
    {
        var signal = await SubmitAsync("police", "fb-6");
        await PublishAsync(Registered("reg-dup", signal.SignalId));
        await WaitForAsync("police", signal.SignalId, s => s.Status == SignalStatus.Registered);

        await PublishAsync(new RegistrationsMerged { EventId = Guid.NewGuid().ToString(), SurvivingRegistrationId = "reg-kept", MergedRegistrationIds = { "reg-dup" }, SignalIds = { signal.SignalId } });
        await PublishAsync(new VictimStatusChanged
        {
            EventId = Guid.NewGuid().ToString(), RegistrationId = "reg-dup", NewStatus = Chain.Registry.V1.VictimStatus.Closed,
            ClosureReason = Chain.Registry.V1.RegistrationClosureReason.Merged, SignalIds = { signal.SignalId },
        });
        var moved = await WaitForAsync("police", signal.SignalId, s => s.Outcome.RegistrationId == "reg-kept");
        await Task.Delay(300);
        var notClosedByTheMerge = (await Client.Intake().GetSignalAsync(new GetSignalRequest { SignalId = signal.SignalId }, As("police"))).Signal;

        await PublishAsync(new VictimStatusChanged
        {
            EventId = Guid.NewGuid().ToString(), RegistrationId = "reg-kept", NewStatus = Chain.Registry.V1.VictimStatus.Closed,
            ClosureReason = Chain.Registry.V1.RegistrationClosureReason.NotAVictim, SignalIds = { signal.SignalId },
        });
        var closed = await WaitForAsync("police", signal.SignalId, s => s.Status == SignalStatus.Closed);

        Assert.Equal("reg-kept", moved.Outcome.RegistrationId);
        Assert.Equal(SignalStatus.Registered, notClosedByTheMerge.Status);
        Assert.Equal(SignalStatus.Closed, closed.Status);
        Assert.Equal(SignalClosureReason.NoIndications, closed.Outcome.ClosureReason);
        Assert.NotNull(closed.Outcome.ClosedAt);
    }

    [Fact]
    public async Task A_watch_on_one_replica_hears_news_consumed_by_another_and_hears_it_once()
    {
        // Two replicas on one database: the news comes in on the second replica's bus.
        await using var other = await StartEmbeddedAsync(_dataDirectory);
        await WatchAcrossReplicasAsync(_host, other);
    }

    /// <summary>A watch on <paramref name="watched"/> hears news that <paramref name="other"/> consumed, and news both carried, each once.</summary>
    internal static async Task WatchAcrossReplicasAsync(SignalsHost watched, SignalsHost other)
    {
        var signal = (await watched.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = $"fb-{Guid.NewGuid():N}", Observation = Observations.LabourInspection() }, As("inspectorate"))).Signal;
        using var watch = watched.Channel.Intake().WatchMySignals(new WatchMySignalsRequest(), As("inspectorate"));
        await watch.ResponseHeadersAsync;

        await other.Services.GetRequiredService<IBus>().Publish(Assessed(signal.SignalId, Track.Care));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
        var change = watch.ResponseStream.Current.Change;
        await watched.Services.GetRequiredService<IBus>().Publish(Registered("reg-10", signal.SignalId));
        Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
        var registered = watch.ResponseStream.Current.Change;
        // The registration reached this replica both live and by its catch-up read: it is sent once.
        using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(2.5));
        var more = await Record.ExceptionAsync(() => watch.ResponseStream.MoveNext(quiet.Token));

        Assert.Equal(signal.SignalId, change.SignalId);
        Assert.Equal(SignalStatus.Assessed, change.NewStatus);
        Assert.Equal(Track.Care, change.Outcome.Track);
        Assert.Equal(SignalStatus.Registered, registered.NewStatus);
        Assert.NotNull(more);
    }

    [Fact]
    public async Task Status_history_older_than_its_retention_is_purged_and_younger_history_kept()
    {
        var old = await SubmitAsync("police", "history-old");
        var young = await SubmitAsync("police", "history-young");
        using (var scope = _host.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Ketenmesh.Signals.Persistence.SignalsDbContext>();
            var aged = DateTime.UtcNow - new Ketenmesh.Signals.Domain.SignalWatchOptions().HistoryRetention - TimeSpan.FromDays(1);
            await db.StatusChanges.Where(c => c.SignalId == old.SignalId).ExecuteUpdateAsync(u => u.SetProperty(c => c.ChangedAt, aged));
        }

        // The purge runs at start, then hourly: a replica started on the same database does it now.
        await using var other = await StartEmbeddedAsync(_dataDirectory);
        await Ketenmesh.Testing.Eventually.SucceedsAsync(async () =>
        {
            using var scope = other.Services.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<Ketenmesh.Signals.Persistence.SignalsDbContext>();
            Assert.False(await db.StatusChanges.AnyAsync(c => c.SignalId == old.SignalId));
            Assert.True(await db.StatusChanges.AnyAsync(c => c.SignalId == young.SignalId));
        });
    }
}
