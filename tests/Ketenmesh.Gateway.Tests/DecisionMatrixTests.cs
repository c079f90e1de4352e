using Chain.Common.V1;
using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Policy;

namespace Ketenmesh.Gateway.Tests;

/// <summary>Every seeded partner × every purpose × every chain method, through the running gateway, against the seeded policy file.</summary>
public sealed class DecisionMatrixTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Every_partner_purpose_and_method_is_allowed_exactly_when_the_seeded_policy_says_so()
    {
        var granted = SeedFile.Rules().Select(r => (r.PartnerId, r.Purpose, r.Method)).ToHashSet();
        var purposes = Enum.GetValues<Purpose>().Where(p => p != Purpose.Unspecified).Select(PurposeNames.ToScope).ToList();
        var cases = (from partner in PartnerCatalog.Seeded.All
                     from purpose in purposes
                     from method in MethodCatalog.Chain.Methods
                     select (Partner: partner, Purpose: purpose, Method: method)).ToList();
        var tokens = PartnerCatalog.Seeded.All.ToDictionary(p => p.Id, p => _mesh.As(p.Id, null));
        var wrong = new System.Collections.Concurrent.ConcurrentBag<string>();
        var allowed = 0;

        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, _) =>
        {
            var name = MethodCatalog.NameOf(c.Method);
            var metadata = new Dictionary<string, string>(tokens[c.Partner.Id]) { ["x-purpose"] = c.Purpose };
            var result = await _mesh.Raw.CallAsync(name, [SampleMessages.Full(c.Method.InputType)], metadata);
            // The token carries the partner's catalog purposes only, so a grant for another purpose cannot be used.
            var expected = granted.Contains((c.Partner.Id, c.Purpose, name)) && c.Partner.Purposes.Select(PurposeNames.ToScope).Contains(c.Purpose);
            var actual = result.Status == (int)StatusCode.OK;
            if (expected)
            {
                Interlocked.Increment(ref allowed);
            }
            if (expected != actual || (!actual && result.Status != (int)StatusCode.PermissionDenied))
            {
                wrong.Add($"{c.Partner.Id} {c.Purpose} {name}: expected {(expected ? "allowed" : "denied")}, got {result.Status} {result.Message}");
            }
        });

        Assert.Empty(wrong);
        Assert.Equal(cases.Count, 23 * 7 * MethodCatalog.Chain.Methods.Count());
        Assert.Equal(SeedFile.Rules().Count, allowed);
        // One decision per call; an answer adds a record per person it names other than the call's subject.
        Assert.Equal(cases.Count, (await _mesh.AuditAsync()).Count(e => e.Reason != Ketenmesh.Gateway.Forwarding.MinimisedResponse.PersonFound));
        Assert.Equal(allowed, _mesh.Upstream.Calls.Count);
    }

    [Fact]
    public void Every_seeded_grant_is_for_a_purpose_its_partner_may_declare()
    {
        var outside = SeedFile.Rules()
            .Where(r => PartnerCatalog.Seeded.Find(r.PartnerId) is not { } partner || !partner.Purposes.Select(PurposeNames.ToScope).Contains(r.Purpose))
            .Select(r => r.GrantId)
            .Distinct()
            .ToList();

        Assert.Empty(outside);
    }
}
