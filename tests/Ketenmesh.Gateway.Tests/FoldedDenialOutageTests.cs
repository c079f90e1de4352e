using Ketenmesh.Audit;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// <see cref="FoldedDenials"/> while the audit log comes and goes: nothing is counted against a first record
/// that was never written, and what waits for the log is kept per source, not per window.
/// </summary>
public sealed class FoldedDenialOutageTests : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private readonly SwitchedAudit _audit = new();
    private readonly SteppedClock _clock = new();
    private readonly FoldedDenials _denials;

    public FoldedDenialOutageTests()
    {
        _denials = new FoldedDenials(_audit, Options.Create(new GatewayOptions { DenialWindow = Window }), _clock, NullLogger<FoldedDenials>.Instance);
        _denials.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public void Dispose() => _denials.Dispose();

    [Fact]
    public async Task When_a_windows_first_refusal_cannot_be_recorded_the_next_is_written_at_once_not_counted()
    {
        _audit.Down = true;
        await Assert.ThrowsAsync<AuditUnavailableException>(() => _denials.RecordAsync("address 192.0.2.1", Refusal("first"), CancellationToken.None).AsTask());
        _audit.Down = false;

        await _denials.RecordAsync("address 192.0.2.1", Refusal("second"), CancellationToken.None);

        Assert.Equal(["second"], _audit.Written.Select(d => d.Reason));
    }

    [Fact]
    public async Task Folded_records_the_log_cannot_take_are_kept_merged_per_source_and_written_once_it_is_back()
    {
        for (var round = 0; round < 5; round++)
        {
            _audit.Down = false;
            await _denials.RecordAsync("partner police", Refusal($"first of window {round}"), CancellationToken.None);
            for (var repeat = 0; repeat < 3; repeat++)
            {
                await _denials.RecordAsync("partner police", Refusal($"repeat {repeat} of window {round}"), CancellationToken.None);
            }
            // The window closes while the log is away: its follow-up record has to wait.
            _audit.Down = true;
            _clock.Advance(Window);
        }

        _audit.Down = false;
        _clock.Advance(Window / 4);

        await Eventually.SucceedsAsync(() =>
        {
            var folded = Assert.Single(_audit.Written, d => d.Count > 1);
            Assert.Equal(15, folded.Count);
            Assert.StartsWith("repeat 0 of window 0 [15 refusals", folded.Reason, StringComparison.Ordinal);
            return Task.CompletedTask;
        }, TimeSpan.FromSeconds(10));
        Assert.Equal(5, _audit.Written.Count(d => d.Count == 1));
    }

    private static Decision Refusal(string reason) =>
        new(DateTimeOffset.UtcNow, "police", "", "chain.signals.v1.SignalIntake/ListMySignals", false, reason, null, "", null);

    /// <summary>An audit log the test takes away and gives back; what it took, in order.</summary>
    private sealed class SwitchedAudit : IDecisionAudit
    {
        private readonly Lock _gate = new();
        private readonly List<Decision> _written = [];

        public volatile bool Down;

        public IReadOnlyList<Decision> Written
        {
            get
            {
                lock (_gate)
                {
                    return [.. _written];
                }
            }
        }

        public ValueTask RecordAsync(Decision decision, CancellationToken cancellationToken)
        {
            if (Down)
            {
                return ValueTask.FromException(new AuditUnavailableException(new IOException("the test took the log away")));
            }
            lock (_gate)
            {
                _written.Add(decision);
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A clock that moves only when told, ticking the one timer FoldedDenials sets each time.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks;
        private Action? _tick;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _tick = () => callback(state);
            return new Stopped();
        }

        public void Advance(TimeSpan by)
        {
            Interlocked.Add(ref _ticks, by.Ticks);
            _tick?.Invoke();
        }

        private sealed class Stopped : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
