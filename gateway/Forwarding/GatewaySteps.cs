using System.Diagnostics.Metrics;

namespace Ketenmesh.Gateway.Forwarding;

/// <summary>
/// Where an allowed call's time goes in the gateway, in three steps: deciding (authentication, rate limit,
/// purpose and grant, preconditions), recording (the durable audit record, the transaction token signed
/// meanwhile) and forwarding (the service's answer, masked; unary calls only, as a stream's time is its
/// partner's). An operator tells a slow audit disk from a slow service without a profiler, and the
/// benchmark splits the gateway's latency with it.
/// </summary>
public sealed class GatewaySteps
{
    public const string MeterName = "Ketenmesh.Gateway.Steps";
    public const string DurationName = "ketenmesh.gateway.step.duration";
    public const string StepTag = "step";

    public const string Decide = "decide";
    public const string Record = "record";
    public const string Forward = "forward";

    private readonly Histogram<double> _duration;

    public GatewaySteps(IMeterFactory meters)
    {
        // From the host's factory, as the audit log's commit is: each gateway (and each test's) measures its own.
        _duration = meters.Create(MeterName).CreateHistogram<double>(
            DurationName, "s", "Time an allowed call spends in one step of the gateway: decide, record or forward");
    }

    public void Measured(string step, TimeSpan elapsed) =>
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(StepTag, step));
}
