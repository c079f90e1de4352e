using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Policy;

namespace Ketenmesh.Gateway.Tests;

/// <summary>Compressed messages either way: inflated, checked or minimised, and sent on; or refused. Never passed unminimised.</summary>
public sealed class CompressionTests : IAsyncLifetime
{
    private const string GetRegistration = "chain.registry.v1.VictimRegistry/GetRegistration";
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task A_compressed_answer_is_inflated_and_minimised_before_it_leaves()
    {
        var metadata = _mesh.As("care", "victim_care");
        metadata["x-test-answer"] = "gzip";

        var result = await _mesh.Raw.CallAsync(GetRegistration, [[]], metadata);

        Assert.Equal((int)StatusCode.OK, result.Status);
        var paths = WireFields.Present(MethodCatalog.Chain.Find(GetRegistration)!.OutputType, Assert.Single(result.Messages)).Select(p => p.Path).ToList();
        Assert.Contains("registration.status", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("registration.link_keys", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_answer_that_cannot_be_minimised_is_withheld()
    {
        var metadata = _mesh.As("care", "victim_care");
        metadata["x-test-answer"] = "garbage";

        var result = await _mesh.Raw.CallAsync(GetRegistration, [[]], metadata);

        Assert.Equal((int)StatusCode.Internal, result.Status);
        Assert.Contains("withheld", result.Message);
        Assert.Empty(result.Messages);
    }

    [Fact]
    public async Task A_gzip_request_is_inflated_for_its_checks_and_reaches_the_service()
    {
        var request = new Chain.Registry.V1.GetRegistrationRequest { RegistrationId = "reg-1" }.ToByteArray();

        var result = await _mesh.Raw.CallAsync(GetRegistration, [request], _mesh.As("care", "victim_care"), encoding: RequestEncoding.Gzip);

        Assert.Equal((int)StatusCode.OK, result.Status);
        var entry = Assert.Single(await _mesh.DecisionsAsync());
        Assert.Equal(AuditDecision.Allowed, entry.Decision);
        // The subject was read from the inflated message, so the audit names it.
        Assert.False(string.IsNullOrEmpty(entry.SubjectPseudonym));
    }

    [Fact]
    public async Task A_request_flagged_compressed_that_is_not_gzip_is_refused_with_a_status_and_on_record()
    {
        var result = await _mesh.Raw.CallAsync(GetRegistration, [[1, 2, 3, 4]], _mesh.As("care", "victim_care"), encoding: RequestEncoding.FlaggedButNotGzip);

        Assert.Equal((int)StatusCode.Internal, result.Status);
        var entry = Assert.Single(await _mesh.AuditAsync());
        Assert.Equal(AuditDecision.Denied, entry.Decision);
        Assert.Empty(_mesh.Upstream.Calls);
    }
}
