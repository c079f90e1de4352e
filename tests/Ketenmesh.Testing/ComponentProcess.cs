using System.Diagnostics;
using System.Text;

namespace Ketenmesh.Testing;

/// <summary>
/// A component as <c>./mesh up --real</c> runs it: its own <c>dotnet Ketenmesh.X.dll</c> process with
/// its configuration in the environment (<c>Section__Key</c>), nothing on the command line.
/// </summary>
public sealed class ComponentProcess : IDisposable
{
    private readonly StringBuilder _output = new();

    private ComponentProcess(string name, Process process)
    {
        Name = name;
        Process = process;
    }

    public string Name { get; }

    public Process Process { get; }

    /// <summary>Everything the process printed so far (it never prints payloads or personal data).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="assembly">The component's dll, found next to the test (the test project references it).</param>
    /// <param name="settings">Configuration keys (<c>Database:Provider</c>); passed as environment variables.</param>
    public static ComponentProcess Start(string name, string assembly, IReadOnlyDictionary<string, string?> settings)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var started = new ComponentProcess(name, Process.Start(info)!);
        started.Process.OutputDataReceived += (_, e) => started.Append(e.Data);
        started.Process.ErrorDataReceived += (_, e) => started.Append(e.Data);
        started.Process.BeginOutputReadLine();
        started.Process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Waits until the process prints <paramref name="line"/>; fails with its output if it exits or takes too long.</summary>
    public async Task WaitForAsync(string line = "Ready.", TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (!Output.Contains(line, StringComparison.Ordinal))
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {Process.ExitCode} before printing '{line}':\n{Output}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} did not print '{line}' in time:\n{Output}");
            }

            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        Process.Dispose();
    }
}
