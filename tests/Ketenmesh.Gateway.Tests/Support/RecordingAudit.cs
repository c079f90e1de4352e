using System.Collections.Concurrent;
using Ketenmesh.Gateway.Access;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>Keeps every decision the gateway reports, in order.</summary>
sealed class RecordingAudit : IDecisionAudit
{
    public ConcurrentQueue<Decision> Decisions { get; } = new();

    public ValueTask RecordAsync(Decision decision, CancellationToken cancellationToken)
    {
        Decisions.Enqueue(decision);
        return ValueTask.CompletedTask;
    }
}
