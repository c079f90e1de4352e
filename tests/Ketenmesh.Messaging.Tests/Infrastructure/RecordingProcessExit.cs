using Ketenmesh.Messaging.Recovery;

namespace Ketenmesh.Messaging.Tests.Infrastructure;

/// <summary>Catches a host's request to end its process, which in a test must not end the test run.</summary>
sealed class RecordingProcessExit : IProcessExit
{
    readonly TaskCompletionSource<int> _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<int> Requested => _requested.Task;

    public void Request(int exitCode, string reason) => _requested.TrySetResult(exitCode);
}
