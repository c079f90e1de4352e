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

public sealed class WriteAnswerLimitTests
{
    private const string GetRegistration = "chain.registry.v1.VictimRegistry/GetRegistration";
    private const string RecordResidenceStatus = "chain.registry.v1.VictimRegistry/RecordResidenceStatus";
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static Grant Grant(string id, params (string Method, string[] Mask)[] methods)
    {
        var grant = new Grant
        {
            GrantId = id,
            PartnerId = "ind",
            Purpose = Purpose.Residence,
            LegalBasis = "Vw 2000",
            ValidFrom = Timestamp.FromDateTimeOffset(Now.AddDays(-1)),
        };
        grant.Methods.AddRange(methods.Select(m => new MethodRule { Method = m.Method, ResponseMask = new FieldMask { Paths = { m.Mask } } }));
        return grant;
    }

    [Fact]
    public void A_write_whose_answer_shows_more_of_a_record_than_the_partners_read_is_refused_naming_the_fields()
    {
        var grant = Grant("ind-residence",
            (GetRegistration, ["registration.registration_id", "registration.status", "registration.residence"]),
            (RecordResidenceStatus, ["*"]));

        var problem = Assert.Single(GrantCompiler.ValidateDisclosure([grant], MethodCatalog.Chain));

        Assert.Equal(("ind-residence", "grant.methods[1].response_mask"), (problem.GrantId, problem.Field));
        Assert.Contains("registration.link_keys", problem.Problem);
        Assert.Contains("registration.linked_records", problem.Problem);
        Assert.Contains("registration.exploitation", problem.Problem);
        Assert.Contains("registration.reporter_partner", problem.Problem);
        Assert.DoesNotContain("registration.residence", problem.Problem);
        Assert.DoesNotContain("registration.version", problem.Problem);
    }

    [Fact]
    public void A_write_within_the_union_of_the_partners_reads_across_its_grants_passes()
    {
        var reads = Grant("ind-reads", (GetRegistration, ["registration.residence", "registration.status"]));
        var writes = Grant("ind-writes", (RecordResidenceStatus, ["registration.registration_id", "registration.version", "registration.residence.legal_stay", "registration.status"]));

        Assert.Empty(GrantCompiler.ValidateDisclosure([reads, writes], MethodCatalog.Chain));
    }

    [Fact]
    public void A_partner_that_reads_a_record_nowhere_sees_only_its_id_and_version_in_a_writes_answer()
    {
        var idOnly = Grant("ind-a", ("chain.registry.v1.VictimRegistry/RecordConsent", ["consent.consent_id"]));
        var more = Grant("ind-b", ("chain.registry.v1.VictimRegistry/RecordConsent", ["consent.consent_id", "consent.state"]));

        Assert.Empty(GrantCompiler.ValidateDisclosure([idOnly], MethodCatalog.Chain));
        Assert.Contains("consent.state", Assert.Single(GrantCompiler.ValidateDisclosure([more], MethodCatalog.Chain)).Problem);
    }

    [Fact]
    public void The_default_policy_shows_no_partner_more_in_a_writes_answer_than_it_reads()
    {
        Assert.Empty(GrantCompiler.ValidateDisclosure(DefaultPolicy.Grants().Grants, MethodCatalog.Chain));
    }

    [Fact]
    public void The_gateway_cuts_a_published_write_down_to_what_the_partner_reads()
    {
        var snapshot = new PolicySnapshot { Revision = 1 };
        var grant = Grant("ind-residence",
            (GetRegistration, ["registration.registration_id", "registration.residence"]),
            (RecordResidenceStatus, ["*"]));
        snapshot.Grants.Add(new GrantVersion { Grant = grant, State = GrantState.Published, VersionHash = GrantVersionHash.Compute(grant) });

        var verdict = new AccessPolicy(snapshot, MethodCatalog.Chain).Decide(new AccessRequest("ind", new HashSet<string> { "residence" }, "residence", RecordResidenceStatus, false), Now);

        Assert.True(verdict.Allowed);
        var removed = verdict.Access!.ResponseMask.RemovedPaths();
        Assert.Contains("registration.link_keys", removed);
        Assert.Contains("registration.linked_records", removed);
        Assert.Contains("registration.exploitation", removed);
        Assert.DoesNotContain(removed, p => p.StartsWith("registration.residence", StringComparison.Ordinal));
        Assert.DoesNotContain("registration.version", removed);
    }
}
