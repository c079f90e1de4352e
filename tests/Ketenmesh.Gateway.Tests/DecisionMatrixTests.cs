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

    /// <summary>
    /// The legal path's grants as the sources hand them out, pinned here because the matrix above checks the gateway
    /// against the seed file, not the file against the sources: a grant moved in the file moves both sides of it.
    /// </summary>
    [Fact]
    public async Task The_seeded_policy_lets_the_partners_the_sources_name_register_minors_start_the_period_and_give_statements_and_refuses_the_rest()
    {
        const string registry = "chain.registry.v1.VictimRegistry/";
        var rows = new (string Partner, string Purpose, string Method, bool Allowed)[]
        {
            // Nidos reports unaccompanied minors (seeds/001…txt L5559–5560); the registry refuses it an adult's registration.
            ("nidos", "victim_care", "RegisterVictim", true),
            // The police point the person out to the period (L7243–7245); the marechaussee meets victims at the border.
            ("police", "criminal_investigation", "StartReflectionPeriod", true),
            ("kmar", "criminal_investigation", "StartReflectionPeriod", true),
            ("comensha", "victim_care", "StartReflectionPeriod", false),
            ("prosecution", "criminal_investigation", "StartReflectionPeriod", false),
            ("nidos", "victim_care", "StartReflectionPeriod", false),
            // Nidos, the guardian of unaccompanied foreign minors (L6174–6176), lists the registrations it is guardian of;
            // no one else is anyone's guardian in the registry, so no one else lists wards.
            ("nidos", "victim_care", "ListWards", true),
            ("nidos", "signalling", "ListWards", false),
            ("comensha", "victim_care", "ListWards", false),
            ("police", "criminal_investigation", "ListWards", false),
            ("kmar", "criminal_investigation", "ListWards", false),
            // Each statement by the partner who gives it: detention consent by the OM and the police (L6395–6396), the serious
            // threat by the police (L7199–7201), medical or psychological limits by an expert (L7201–7202: care, shelters), a
            // conviction by the OM (L7383).
            ("prosecution", "criminal_investigation", "RecordLegalStatement", true),
            ("police", "criminal_investigation", "RecordLegalStatement", true),
            ("care", "victim_care", "RecordLegalStatement", true),
            ("shelters", "victim_care", "RecordLegalStatement", true),
            ("shelter-jade", "victim_care", "RecordLegalStatement", true),
            ("comensha", "victim_care", "RecordLegalStatement", false),
            ("ind", "residence", "RecordLegalStatement", false),
        };

        var wrong = new List<string>();
        foreach (var (partner, purpose, method, allowed) in rows)
        {
            var result = await _mesh.Raw.CallAsync(registry + method, [[]], _mesh.As(partner, purpose));
            if (result.Status != (int)(allowed ? StatusCode.OK : StatusCode.PermissionDenied))
            {
                wrong.Add($"{partner} {purpose} {method}: expected {(allowed ? "allowed" : "denied")}, got {result.Status} {result.Message}");
            }
        }

        Assert.Empty(wrong);
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
