using System.Diagnostics;
using Grpc.Health.V1;
using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Testing;
using Grpc.Net.Client;

namespace Ketenmesh.Gateway.Tests;

/// <summary>Health and reflection through the gateway show a caller only what it may call.</summary>
public sealed class DiscoveryTests : IAsyncLifetime
{

    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync();

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Reflection_lists_only_the_services_the_caller_may_call()
    {
        var rapporteur = await BufCurlAsync("--list-services", _mesh.Token("rapporteur"));
        var police = await BufCurlAsync("--list-services", _mesh.Token("police"));

        Assert.Equal(["chain.audit.v1.AuditTrail", "chain.registry.v1.VictimRegistry"], Lines(rapporteur).Order());
        Assert.Equal(["chain.audit.v1.AuditTrail", "chain.registry.v1.VictimRegistry", "chain.risk.v1.RiskAssessment", "chain.shelter.v1.ShelterCapacity", "chain.signals.v1.SignalIntake"], Lines(police).Order());
    }

    [Fact]
    public async Task Reflection_without_a_token_is_refused()
    {
        var (exit, _, error) = await RunBufAsync("curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", _mesh.Gateway.ToString());

        Assert.NotEqual(0, exit);
        Assert.Contains("not authenticated", error);
    }

    [Fact]
    public async Task Buf_curl_reads_the_partners_own_audit_trail_through_reflection()
    {
        var token = _mesh.Token("care");
        await RunBufAsync("curl", "--protocol", "grpc", "--http2-prior-knowledge", "-H", "authorization: Bearer " + token, "-H", "x-purpose: signalling",
            "--reflect-header", "authorization: Bearer " + token, "-d", "{}", new Uri(_mesh.Gateway, "chain.signals.v1.SignalIntake/ListMySignals").ToString());

        var (exit, output, error) = await RunBufAsync("curl", "--protocol", "grpc", "--http2-prior-knowledge",
            "-H", "authorization: Bearer " + token, "--reflect-header", "authorization: Bearer " + token,
            "-d", "{}", new Uri(_mesh.Gateway, "chain.audit.v1.AuditTrail/ListMyDecisions").ToString());

        Assert.True(exit == 0, error);
        Assert.Contains("\"method\": \"chain.signals.v1.SignalIntake/ListMySignals\"", output);
        Assert.Contains("\"partnerId\": \"care\"", output);
        Assert.DoesNotContain("\"partnerId\": \"police\"", output);
    }

    [Fact]
    public async Task Buf_curl_calls_a_method_through_the_gateway_with_reflection()
    {
        var (exit, output, error) = await RunBufAsync("curl", "--protocol", "grpc", "--http2-prior-knowledge",
            "-H", "authorization: Bearer " + _mesh.Token("care"), "-H", "x-purpose: signalling",
            "--reflect-header", "authorization: Bearer " + _mesh.Token("care"),
            "-d", "{}", new Uri(_mesh.Gateway, "chain.signals.v1.SignalIntake/ListMySignals").ToString());

        Assert.True(exit == 0, error);
        Assert.StartsWith("{", output.Trim());
    }

    [Fact]
    public async Task Health_of_a_service_the_caller_may_not_call_is_not_found()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _mesh.Channel.Health().CheckAsync(new HealthCheckRequest { Service = "chain.risk.v1.RiskAssessment" },
            GatewayMesh.Options(_mesh.As("rapporteur", null))).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Health_of_a_callable_service_is_the_services_own_and_the_gateway_itself_needs_no_token()
    {
        var signals = await _mesh.Channel.Health().CheckAsync(new HealthCheckRequest { Service = "chain.signals.v1.SignalIntake" }, GatewayMesh.Options(_mesh.As("police", null)));
        var gateway = await _mesh.Channel.Health().CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, signals.Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, gateway.Status);
    }

    private async Task<string> BufCurlAsync(string what, string token)
    {
        var (exit, output, error) = await RunBufAsync("curl", "--protocol", "grpc", "--http2-prior-knowledge", what,
            "--reflect-header", "authorization: Bearer " + token, _mesh.Gateway.ToString());
        Assert.True(exit == 0, error);
        return output;
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<(int Exit, string Output, string Error)> RunBufAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo(Path.Combine(Repository.Root, "tests/peers/node_modules/.bin/buf"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
