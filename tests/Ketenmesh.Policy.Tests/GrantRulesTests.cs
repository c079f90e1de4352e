using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Policy.Decisions;
using Ketenmesh.Policy.Seed;

namespace Ketenmesh.Policy.Tests;

public sealed class GrantRulesTests
{
    private static Grant Valid() => new()
    {
        GrantId = "care-victim-care",
        PartnerId = "care",
        Purpose = Purpose.VictimCare,
        LegalBasis = "AVG art. 6(1)(e)",
        ValidFrom = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        Methods = { new MethodRule { Method = "chain.registry.v1.VictimRegistry/GetRegistration", ResponseMask = new FieldMask { Paths = { "registration.status" } } } },
    };

    [Fact]
    public void A_sound_grant_has_no_problems()
    {
        Assert.Empty(GrantCompiler.Validate(Valid(), MethodCatalog.Chain));
    }

    [Fact]
    public void Every_problem_of_a_bad_grant_is_named_with_its_field()
    {
        var grant = new Grant
        {
            ValidFrom = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            ValidUntil = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)),
            Methods =
            {
                new MethodRule { Method = "chain.registry.v1.VictimRegistry/DeleteEverything", ResponseMask = new FieldMask() },
                new MethodRule { Method = "chain.registry.v1.VictimRegistry/GetRegistration" },
                new MethodRule { Method = "chain.registry.v1.VictimRegistry/ListConsents", ResponseMask = new FieldMask { Paths = { "consents.colour" } }, RequiredRequestFields = { "no_such_field" } },
            },
        };

        var fields = GrantCompiler.Validate(grant, MethodCatalog.Chain).Select(p => p.Field).ToList();

        Assert.Equal(
            ["grant.grant_id", "grant.partner_id", "grant.purpose", "grant.legal_basis", "grant.valid_until", "grant.methods[0].method", "grant.methods[1].response_mask", "grant.methods[2].response_mask", "grant.methods[2].required_request_fields"],
            fields);
    }

    [Fact]
    public void A_statistics_grant_may_name_aggregate_methods_only()
    {
        var grant = Valid();
        grant.Purpose = Purpose.Statistics;

        var problem = Assert.Single(GrantCompiler.Validate(grant, MethodCatalog.Chain));

        Assert.Equal("grant.methods[0].method", problem.Field);
        Assert.Contains("aggregate methods only", problem.Problem);
    }

    [Fact]
    public void The_default_policy_is_sound_and_every_version_hash_is_its_content()
    {
        var snapshot = DefaultPolicy.Snapshot(DateTimeOffset.UtcNow);

        Assert.All(snapshot.Grants, v => Assert.Empty(GrantCompiler.Validate(v.Grant, MethodCatalog.Chain)));
        Assert.All(snapshot.Grants, v => Assert.Equal(GrantVersionHash.Compute(v.Grant), v.VersionHash));
        Assert.Equal(snapshot.Grants.Count, snapshot.Grants.Select(v => v.Grant.GrantId).Distinct().Count());
    }

    [Fact]
    public void Equal_grants_hash_alike_and_any_change_changes_the_hash()
    {
        var changed = Valid();
        changed.Methods[0].ResponseMask.Paths.Add("registration.reflection_period");

        Assert.Equal(GrantVersionHash.Compute(Valid()), GrantVersionHash.Compute(Valid()));
        Assert.NotEqual(GrantVersionHash.Compute(Valid()), GrantVersionHash.Compute(changed));
        Assert.Matches("^[0-9a-f]{64}$", GrantVersionHash.Compute(Valid()));
    }

    [Fact]
    public void A_precondition_the_gateway_cannot_check_leaves_the_method_out_instead_of_dropping_the_precondition()
    {
        var grant = Valid();
        grant.Methods[0].RequiredRequestFields.Add("consent_that_does_not_exist");
        var version = new GrantVersion { Grant = grant, State = GrantState.Published, VersionHash = GrantVersionHash.Compute(grant) };

        var compiled = GrantCompiler.Compile(version, MethodCatalog.Chain);

        Assert.Null(compiled.Find("chain.registry.v1.VictimRegistry/GetRegistration"));
    }
}
