namespace Ketenmesh.Messaging.Recovery;

/// <summary>How a component asks to end its process with a code its supervisor understands.</summary>
public interface IProcessExit
{
    void Request(int exitCode, string reason);
}

/// <summary>Sets the process's exit code; the host's run loop returns it once shutdown completes.</summary>
sealed class EnvironmentProcessExit : IProcessExit
{
    public void Request(int exitCode, string reason) => Environment.ExitCode = exitCode;
}
