using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Security;

namespace Ketenmesh.Mesh.Demo;

/// <summary>
/// <c>Ketenmesh.Mesh demo [--gateway URL] [--identity URL] --Mesh:DataDirectory=DIR</c> (behind
/// <c>./mesh demo</c>): plays <see cref="ChainDemo"/> against a mesh that is already running.
/// </summary>
public static class DemoCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var gatewayAddress = new Uri(Option(args, "--gateway") ?? "http://127.0.0.1:8080");
        var identity = new Uri(Option(args, "--identity") ?? "http://127.0.0.1:8081");
        var dataDirectory = args.FirstOrDefault(a => a.StartsWith("--Mesh:DataDirectory=", StringComparison.Ordinal))?.Split('=', 2)[1]
            ?? Path.Combine(".mesh", "data");
        using var http = AuthorityHttp.For(identity);
        using var channel = GrpcChannel.ForAddress(gatewayAddress);
        var demo = new ChainDemo(channel, partner => PartnerSession.SignInAsync(http, identity, dataDirectory, partner), output);
        try
        {
            await demo.RunAsync();
            await output.WriteLineAsync("\nDone. `./mesh audit partner police` shows what the gateway recorded of it.");
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or RpcException { StatusCode: StatusCode.Unavailable })
        {
            await error.WriteLineAsync($"The mesh is not reachable ({e.Message}). Start it first with ./mesh up, then run ./mesh demo in another terminal.");
            return 1;
        }
        catch (RpcException e)
        {
            // A partner call refused or failed: one line naming the step and the status, never a stack trace.
            await error.WriteLineAsync($"The demo stopped at step {demo.CurrentStep}: {e.StatusCode}: {OneLine(e.Status.Detail)}");
            return 1;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            await error.WriteLineAsync($"The demo stopped at step {demo.CurrentStep}: {OneLine(e.Message)}");
            return 1;
        }
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
