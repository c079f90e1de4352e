using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Policy;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// Every method of every seeded grant, called through the gateway against a service that fills every
/// field (and one the contracts do not know): nothing outside the grant's mask may arrive, and
/// everything inside it must.
/// </summary>
public sealed class LeakageTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task No_field_outside_the_grants_mask_leaves_the_gateway_for_any_seeded_method()
    {
        var rules = SeedFile.Rules();
        var problems = new List<string>();
        var streamsChecked = 0;
        foreach (var rule in rules)
        {
            var method = MethodCatalog.Chain.Find(rule.Method) ?? throw new InvalidOperationException(rule.Method);
            var request = SampleMessages.Full(method.InputType);
            var result = await _mesh.Raw.CallAsync(rule.Method, [request], _mesh.As(rule.PartnerId, rule.Purpose));
            if (result.Status != (int)StatusCode.OK)
            {
                problems.Add($"{rule.GrantId} {rule.Method}: status {result.Status} {result.Message}");
                continue;
            }
            var expected = method.IsServerStreaming ? ContractUpstream.StreamLength : 1;
            if (result.Messages.Count != expected)
            {
                problems.Add($"{rule.GrantId} {rule.Method}: {result.Messages.Count} messages, expected {expected}");
            }
            streamsChecked += method.IsServerStreaming ? 1 : 0;
            foreach (var message in result.Messages)
            {
                var present = WireFields.Present(method.OutputType, message);
                problems.AddRange(present.Where(p => !WireFields.Covered(rule.Mask, p.Path, p.Container))
                    .Select(p => $"{rule.GrantId} {rule.Method}: leaked {p.Path}"));
                problems.AddRange(rule.Mask.Where(m => m != "*" && !present.Any(p => p.Path == m || p.Path.StartsWith(m + ".", StringComparison.Ordinal)))
                    .Select(m => $"{rule.GrantId} {rule.Method}: withheld {m}, which the grant allows"));
                if (rule.Mask.Contains("*") && present.Count == 0)
                {
                    problems.Add($"{rule.GrantId} {rule.Method}: a '*' grant received an empty message");
                }
            }
        }

        Assert.Empty(problems);
        Assert.True(rules.Count > 100, $"only {rules.Count} seeded rules were checked");
        Assert.True(streamsChecked >= 10, $"only {streamsChecked} streaming methods were checked");
    }

    [Fact]
    public async Task Unknown_fields_are_dropped_even_when_the_grant_keeps_everything()
    {
        const string method = "chain.shelter.v1.ShelterCapacity/GetCapacity";
        var result = await _mesh.Raw.CallAsync(method, [[]], _mesh.As("police", "criminal_investigation"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        var present = WireFields.Present(MethodCatalog.Chain.Find(method)!.OutputType, Assert.Single(result.Messages));
        Assert.NotEmpty(present);
        Assert.DoesNotContain(present, p => p.Path.Contains('?'));
    }

    [Fact]
    public async Task Care_partner_receives_care_relevant_registry_fields_only()
    {
        const string method = "chain.registry.v1.VictimRegistry/GetRegistration";
        var result = await _mesh.Raw.CallAsync(method, [[]], _mesh.As("care", "victim_care"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        var paths = WireFields.Present(MethodCatalog.Chain.Find(method)!.OutputType, Assert.Single(result.Messages)).Select(p => p.Path).ToList();
        Assert.Contains("registration.status", paths);
        Assert.Contains(paths, p => p.StartsWith("registration.reflection_period.", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.StartsWith("registration.link_keys", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.StartsWith("registration.linked_records", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.StartsWith("registration.aangifte_status", StringComparison.Ordinal));
    }
}
