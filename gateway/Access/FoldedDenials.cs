using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Forwarding;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Access;

/// <summary>
/// Refusals that anyone can cause in bulk, recorded without letting a flood write a record per call:
/// calls without a valid token (by remote address), calls over a rate limit and a partner's calls to the
/// audit trail's officer-only methods (by partner).
/// </summary>
/// <remarks>
/// Per source, the first refusal opens a window of <see cref="GatewayOptions.DenialWindow"/> and is
/// recorded at once, as any refusal is (its caller waits for the record, then hears its status). Every
/// further refusal of that source within the window is only counted, and its caller hears its status at
/// once. When the window closes, the repeats become one follow-up record whose count says how many calls
/// it stands for (<see cref="AuditEntry.Count"/>), showing the first repeat's method, purpose and
/// reason. So every refusal is on record, and a flood from one source writes at most two records per
/// window. A window opens only on a first refusal that is on record: if that record fails, its caller
/// hears so (UNAVAILABLE) and the next refusal of the source is again written at once, so nothing is
/// counted against a record that does not exist. Folded records that could not be written (the audit log
/// away) are kept, merged per source, and tried again at the next tick; at shutdown every open window is
/// written before the audit log stops (this service stops first, being registered after it). What is
/// lost is only what a crash takes: the repeats of the last window and those not yet written. The number
/// of sources tracked is bounded too: past <see cref="MaxSources"/>, further sources share one window
/// (and one kept record), so spreading a flood over many addresses does not write or keep more either.
/// </remarks>
public sealed class FoldedDenials : IHostedService, IDisposable
{
    /// <summary>Sources with a window open (or a folded record kept unwritten) at once; beyond this they share the overflow one.</summary>
    public const int MaxSources = 10_000;

    private const string Overflow = "*";

    private readonly IDecisionAudit _audit;
    private readonly TimeProvider _clock;
    private readonly ILogger<FoldedDenials> _logger;
    private readonly TimeSpan _window;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Window> _open = new(StringComparer.Ordinal);
    // Closed windows whose folded record could not be written yet, one per source: a long outage merges
    // each source's windows instead of keeping a record per window.
    private readonly Dictionary<string, Window> _unwritten = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private ITimer? _timer;
    private bool _stopped;

    public FoldedDenials(IDecisionAudit audit, IOptions<GatewayOptions> options, TimeProvider clock, ILogger<FoldedDenials> logger)
    {
        _audit = audit;
        _clock = clock;
        _logger = logger;
        _window = options.Value.DenialWindow;
        if (_window <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"Gateway:DenialWindow must be positive; it is {_window}.");
        }
    }

    /// <summary>Records a refusal of <paramref name="http"/>'s call, folded per remote address, then answers it with <paramref name="code"/>.</summary>
    internal Task DenyByAddressAsync(HttpContext http, StatusCode code, string reason) =>
        http.DenyAsync((decision, cancellationToken) => RecordAsync(AddressSource(http), decision, cancellationToken), code, reason);

    /// <summary>Records a refusal of <paramref name="http"/>'s call, folded per partner, then answers it with <paramref name="code"/>.</summary>
    internal Task DenyByPartnerAsync(HttpContext http, StatusCode code, string reason) =>
        http.DenyAsync((decision, cancellationToken) => RecordAsync(PartnerSource(http.Call().PartnerId), decision, cancellationToken), code, reason);

    /// <summary>The source of a call without a valid token: where it came from.</summary>
    public static string AddressSource(HttpContext http) => "address " + SourceAddress(http.Connection.RemoteIpAddress);

    /// <summary>The source of a refusal of an authenticated call: its partner.</summary>
    public static string PartnerSource(string partnerId) => "partner " + partnerId;

    /// <summary>
    /// On record at once if it is the first of its source's window (completing once durable, as
    /// <see cref="IDecisionAudit.RecordAsync"/> does); otherwise counted, for the window's follow-up record, and complete at once.
    /// </summary>
    /// <param name="source">Who caused it, as far as the gateway can tell (a remote address, a partner): refusals are folded per source.</param>
    public async ValueTask RecordAsync(string source, Decision decision, CancellationToken cancellationToken)
    {
        var key = source;
        Window? opened = null;
        lock (_gate)
        {
            if (!_stopped)
            {
                key = KeyOf(_open, source);
                if (_open.TryGetValue(key, out var window))
                {
                    window.Add(decision);
                    return;
                }
                opened = _open[key] = new Window(_clock.GetTimestamp());
            }
        }
        try
        {
            await _audit.RecordAsync(decision, cancellationToken);
        }
        catch when (opened is not null)
        {
            // The window's first refusal is not on record: the window goes, so the next refusal is written at once
            // (or refused UNAVAILABLE in turn) rather than counted. Repeats it counted meanwhile were answered, so they are kept.
            lock (_gate)
            {
                if (_open.TryGetValue(key, out var current) && current == opened)
                {
                    _open.Remove(key);
                    KeepUnwritten(key, opened);
                }
            }
            throw;
        }
    }

    /// <summary>Where <paramref name="source"/> is kept in <paramref name="sources"/>: under its own name while there is room, else in the shared overflow.</summary>
    private static string KeyOf(Dictionary<string, Window> sources, string source) =>
        sources.Count >= MaxSources && !sources.ContainsKey(source) ? Overflow : source;

    /// <summary>Keeps a closed window's repeats for a later try, merged with what its source already has waiting. Called under the gate.</summary>
    private void KeepUnwritten(string source, Window window)
    {
        if (!window.HasRepeats)
        {
            return;
        }
        var key = KeyOf(_unwritten, source);
        if (_unwritten.TryGetValue(key, out var kept))
        {
            kept.Merge(window);
        }
        else
        {
            _unwritten[key] = window;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Ticks at a fraction of the window, so a follow-up record is written at most a quarter window late.
        var tick = _window / 4;
        _timer = _clock.CreateTimer(_ => _ = FlushAsync(everything: false), null, tick, tick);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _stopped = true;
        }
        if (_timer is not null)
        {
            await _timer.DisposeAsync();
        }
        await FlushAsync(everything: true);
    }

    /// <summary>Writes the follow-up record of every window that has closed (or of every window, at shutdown).</summary>
    private async Task FlushAsync(bool everything)
    {
        if (!await _flushing.WaitAsync(everything ? Timeout.Infinite : 0))
        {
            return;
        }
        try
        {
            List<(string Source, Window Window)> due;
            lock (_gate)
            {
                due = [.. _unwritten.Select(w => (w.Key, w.Value))];
                _unwritten.Clear();
                foreach (var (source, window) in _open.Where(w => everything || _clock.GetElapsedTime(w.Value.Opened) >= _window).ToList())
                {
                    _open.Remove(source);
                    if (window.HasRepeats)
                    {
                        due.Add((source, window));
                    }
                }
            }
            for (var i = 0; i < due.Count; i++)
            {
                try
                {
                    await _audit.RecordAsync(due[i].Window.Folded(), CancellationToken.None);
                }
                catch (Exception e)
                {
                    // Whatever failed (the log away or stopping), kept for the next tick: a refusal is never dropped from the record.
                    _logger.LogWarning("Could not record {Count} folded records yet ({Error}); trying again.", due.Count - i, e.GetBaseException().Message);
                    lock (_gate)
                    {
                        foreach (var (source, window) in due.Skip(i))
                        {
                            KeepUnwritten(source, window);
                        }
                    }
                    return;
                }
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>
    /// The source a call without a valid token is counted under: its remote address, an IPv6 address by
    /// its /64, since one host may be given a whole /64 and pick a fresh address per call.
    /// </summary>
    private static string SourceAddress(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _flushing.Dispose();
    }

    /// <summary>One source's window: the first repeat (what the follow-up record shows) and how many repeats in all.</summary>
    private sealed class Window(long opened)
    {
        private Decision? _first;
        private DateTimeOffset _last;
        private int _count;

        public long Opened { get; } = opened;

        [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(_first))]
        public bool HasRepeats => _first is not null;

        public void Add(Decision decision)
        {
            _first ??= decision;
            _last = decision.Time;
            _count = _count == int.MaxValue ? _count : _count + 1;
        }

        /// <summary>Takes in a later window of the same source (one whose record could not be written yet).</summary>
        public void Merge(Window later)
        {
            if (!later.HasRepeats)
            {
                return;
            }
            _first ??= later._first;
            _last = later._last > _last ? later._last : _last;
            _count = (int)Math.Min(int.MaxValue, (long)_count + later._count);
        }

        public Decision Folded() => HasRepeats
            ? _first with { Reason = $"{_first.Reason} [{_count} refusals of one source folded into this record, {_first.Time:O} to {_last:O}]", Count = _count }
            : throw new InvalidOperationException("A window without repeats has no follow-up record.");
    }
}
