using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Ketenmesh.Grpc.Tests.Support;

/// <summary>Independent gRPC implementations, run as separate processes: Debian's python3-grpcio (C core) and npm's @grpc/grpc-js.</summary>
public sealed record Peer(string Name, string Executable, string Script)
{
    public static readonly Peer Python = new("python3-grpcio", "/usr/bin/python3", "tests/peers/python/peer.py");
    public static readonly Peer Node = new("grpc-js", "node", "tests/peers/node/peer.js");

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Runs one client scenario and returns what the peer observed.</summary>
    public async Task<JsonObject> RunClientAsync(string hostPort, string scenario)
    {
        using var process = Start("client", hostPort, scenario);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Name} client did not finish '{scenario}' within 60 s.");
        }
        var output = (await stdout).Trim();
        if (process.ExitCode != 0 || output.Length == 0)
        {
            throw new InvalidOperationException($"{Name} client failed on '{scenario}' (exit {process.ExitCode}): {await stderr}");
        }
        return JsonNode.Parse(output)!.AsObject();
    }

    /// <summary>Starts the peer as a server and waits for the port it listens on.</summary>
    public async Task<PeerServer> StartServerAsync()
    {
        var process = Start("server");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"{Name} server exited before listening: {await process.StandardError.ReadToEndAsync()}");
            if (line.StartsWith("LISTENING ", StringComparison.Ordinal))
            {
                return new PeerServer(process, new Uri($"http://127.0.0.1:{line["LISTENING ".Length..].Trim()}"));
            }
        }
    }

    public override string ToString() => Name;

    private Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(RepoRoot, Script));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["KETENMESH_INTEROP_DESCRIPTORS"] = Path.Combine(AppContext.BaseDirectory, "interop.binpb");
        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {Executable}.");
    }

    private static string FindRepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Ketenmesh.slnx")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Ketenmesh.slnx).");
    }
}

public sealed class PeerServer(Process process, Uri address) : IAsyncDisposable
{
    public Uri Address { get; } = address;

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.StandardInput.Close();
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
