using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Chain.Signals.V1;
using Grpc.Core;
using Ketenmesh.Gateway.Forwarding;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Gateway.Tests;

/// <summary>Where an allowed call's time goes (ketenmesh.gateway.step.duration): what an operator reads a slow audit disk or service from.</summary>
public sealed class GatewayStepsTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync();

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task An_allowed_call_is_timed_in_its_three_steps_and_a_refused_call_in_none()
    {
        // Only this gateway's meters: every test's mesh measures into a factory of its own.
        var meters = _mesh.Services.GetRequiredService<IMeterFactory>();
        var measured = new ConcurrentQueue<(string Step, double Seconds)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == GatewaySteps.DurationName && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == GatewaySteps.StepTag)
                {
                    measured.Enqueue(((string)tag.Value!, seconds));
                }
            }
        });
        listener.Start();

        // Refused at the purpose step, before anything is recorded as allowed or forwarded.
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request(), GatewayMesh.Options(_mesh.As("police", "victim_care"))).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        await _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request(), GatewayMesh.Options(_mesh.As("police", "signalling")));

        // The forward step is measured once the answer has been written, which the partner may read first.
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Contains(measured, m => m.Step == GatewaySteps.Forward);
            return Task.CompletedTask;
        }, TimeSpan.FromSeconds(10));
        Assert.Equal([GatewaySteps.Decide, GatewaySteps.Record, GatewaySteps.Forward], measured.Select(m => m.Step));
        Assert.All(measured, m => Assert.True(m.Seconds > 0, $"{m.Step} measured {m.Seconds} s"));
    }
}
