using System.Diagnostics;
using System.Text.Json.Nodes;
using Ketenmesh.Grpc.Tests.Support;
using Xunit;

namespace Ketenmesh.Grpc.Tests.Interop;

/// <summary>buf curl, a gRPC client that knows our contracts only through server reflection.</summary>
public sealed class BufCurlTests(TestServerFixture fixture) : IClassFixture<TestServerFixture>
{
    private static string Buf => Path.Combine(Peer.RepoRoot, "tests/peers/node_modules/.bin/buf");

    [Fact]
    public async Task Buf_curl_lists_our_methods_through_reflection()
    {
        var (exit, output, error) = await RunAsync("--list-methods", $"{fixture.Server.Address}");
        Assert.True(exit == 0, error);
        Assert.Contains("ketenmesh.testing.v1.InteropTestService/Echo", output);
        Assert.Contains("grpc.health.v1.Health/Watch", output);
    }

    [Fact]
    public async Task Buf_curl_calls_a_unary_method_with_json_built_from_reflection()
    {
        var (exit, output, error) = await RunAsync("-d", """{"payload":"aGFsbG8="}""",
            $"{fixture.Server.Address}ketenmesh.testing.v1.InteropTestService/Echo");
        Assert.True(exit == 0, error);
        Assert.Equal("aGFsbG8=", JsonNode.Parse(output)!["payload"]!.GetValue<string>());
    }

    [Fact]
    public async Task Buf_curl_reads_a_server_stream()
    {
        var (exit, output, error) = await RunAsync("-d", """{"count":3,"size":2}""",
            $"{fixture.Server.Address}ketenmesh.testing.v1.InteropTestService/Count");
        Assert.True(exit == 0, error);
        Assert.Equal(3, output.Split("\"payload\"").Length - 1);
    }

    [Fact]
    public async Task Buf_curl_shows_our_error_status_with_its_unicode_message()
    {
        var (exit, _, error) = await RunAsync("-d", """{"status":{"code":5,"message":"Geen signaal gevonden voor Zoë"}}""",
            $"{fixture.Server.Address}ketenmesh.testing.v1.InteropTestService/Echo");
        Assert.NotEqual(0, exit);
        Assert.Contains("not_found", error);
        Assert.Contains("Zoë", error);
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo(Buf)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "curl", "--protocol", "grpc", "--http2-prior-knowledge" }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        // buf curl has no deadline of its own here: a server that never answers must fail the test, not hang it.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"buf curl {string.Join(' ', arguments)} did not finish within 60 s.");
        }
        return (process.ExitCode, await output, await error);
    }
}
