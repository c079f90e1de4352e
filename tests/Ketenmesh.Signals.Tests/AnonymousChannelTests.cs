using Ketenmesh.Testing;
using Chain.Events.V1;
using Chain.Signals.V1;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Signals.Tests.SignalsHost;

namespace Ketenmesh.Signals.Tests;

/// <summary>The anonymous line: nothing kept that leads back to the reporter (no reporter, no time finer than the month).</summary>
public sealed class AnonymousChannelTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("ketenmesh-signals-").FullName;
    private SignalsHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync(_dataDirectory);

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Theory]
    [InlineData("anonymous")]
    [InlineData("police")]
    public async Task A_tip_from_the_anonymous_line_is_kept_with_its_place_but_no_time_finer_than_the_month(string partner)
    {
        var submitted = await _host.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "mma-1", Observation = Observations.AnonymousTip() }, As(partner));
        var retried = await _host.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "mma-1", Observation = Observations.AnonymousTip() }, As(partner));
        var read = (await _host.Channel.Intake().GetSignalAsync(new GetSignalRequest { SignalId = submitted.Signal.SignalId }, As(partner))).Signal;
        var received = await _host.Events.WaitForAsync(e => e.SignalId == read.SignalId, TimeSpan.FromSeconds(5));

        Assert.Equal("GM0363", read.Observation.Municipality.Code);
        Assert.Equal(Observations.AnonymousTip().ObservedIndicators, read.Observation.ObservedIndicators);
        Assert.True(FirstOfMonth(read.ReceivedAt));
        Assert.True(FirstOfMonth(read.StatusChangedAt));
        Assert.True(FirstOfMonth(received.OccurredAt));
        // A time-ordered (version 7) id would carry the moment of the tip; a random (version 4) one does not.
        Assert.Equal('4', read.SignalId["sig-".Length + 12]);
        Assert.True(retried.Duplicate);
        Assert.Equal(read.SignalId, retried.Signal.SignalId);

        // What the chain later does with it is stamped with the month only, too.
        await _host.Services.GetRequiredService<IBus>().Publish(new VictimStatusChanged
        {
            EventId = Guid.NewGuid().ToString(), RegistrationId = "reg-tip", NewStatus = Chain.Registry.V1.VictimStatus.Closed,
            ClosureReason = Chain.Registry.V1.RegistrationClosureReason.NoContact, SignalIds = { read.SignalId },
        });
        var closed = read;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); closed.Status != SignalStatus.Closed && DateTime.UtcNow < deadline; await Task.Delay(25))
        {
            closed = (await _host.Channel.Intake().GetSignalAsync(new GetSignalRequest { SignalId = read.SignalId }, As(partner))).Signal;
        }
        Assert.Equal(SignalStatus.Closed, closed.Status);
        Assert.True(FirstOfMonth(closed.StatusChangedAt));
        Assert.True(FirstOfMonth(closed.Outcome.ClosedAt));
    }

    private static bool FirstOfMonth(Google.Protobuf.WellKnownTypes.Timestamp at) =>
        at.ToDateTime() is var moment && moment.Day == 1 && moment.TimeOfDay == TimeSpan.Zero;

    [Fact]
    public async Task A_signal_from_another_channel_keeps_its_place_and_time()
    {
        var submitted = await _host.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-1", Observation = Observations.PoliceCheck() }, As("police"));

        Assert.Equal("GM0363", submitted.Signal.Observation.Municipality.Code);
        Assert.Equal('7', submitted.Signal.SignalId["sig-".Length + 12]);
    }
}
