namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// Wakes this replica's reader of the change log (<see cref="CapacityStream"/>) when it committed a capacity
/// change, so its watches hear it at once instead of at the next poll. It carries no data: the reader reads the
/// change log, which also holds what other replicas committed.
/// </summary>
public sealed class CapacityFeed
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A task that completes at the next committed change.</summary>
    public Task NextChange => Volatile.Read(ref _next).Task;

    public void Changed() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
