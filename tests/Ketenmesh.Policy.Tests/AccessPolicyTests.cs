using Chain.Policy.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Policy.Decisions;
using Ketenmesh.Policy.Seed;

namespace Ketenmesh.Policy.Tests;

public sealed class AccessPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly HashSet<string> CarePurposes = ["signalling", "victim_care"];

    [Fact]
    public void Only_published_versions_are_enforced()
    {
        var snapshot = DefaultPolicy.Snapshot(Now);
        foreach (var version in snapshot.Grants.Where(g => g.Grant.PartnerId == "care"))
        {
            version.State = GrantState.Approved;
        }

        var verdict = new AccessPolicy(snapshot, MethodCatalog.Chain).Decide(Request("victim_care", "chain.shelter.v1.ShelterCapacity/ListShelters"), Now);

        Assert.False(verdict.Allowed);
    }

    [Fact]
    public void Allowed_call_names_its_grant_and_mask()
    {
        var verdict = new AccessPolicy(DefaultPolicy.Snapshot(Now), MethodCatalog.Chain).Decide(Request("victim_care", "chain.registry.v1.VictimRegistry/GetRegistration"), Now);

        Assert.True(verdict.Allowed);
        Assert.Equal("care-victim-care", verdict.Grant!.GrantId);
        Assert.Contains("registration.status", verdict.Access!.ResponseMask.Paths);
    }

    [Fact]
    public void Grant_ends_exactly_at_valid_until()
    {
        var snapshot = DefaultPolicy.Snapshot(Now);
        snapshot.Grants.Single(g => g.Grant.GrantId == "care-victim-care").Grant.ValidUntil = Timestamp.FromDateTimeOffset(Now);
        var policy = new AccessPolicy(snapshot, MethodCatalog.Chain);
        var request = Request("victim_care", "chain.shelter.v1.ShelterCapacity/ListShelters");

        Assert.True(policy.Decide(request, Now.AddTicks(-1)).Allowed);
        Assert.False(policy.Decide(request, Now).Allowed);
    }

    [Fact]
    public void Method_outside_the_chain_is_denied_as_such()
    {
        var verdict = new AccessPolicy(DefaultPolicy.Snapshot(Now), MethodCatalog.Chain).Decide(Request("victim_care", "chain.policy.v1.SharingPolicyAdmin/PublishPolicy"), Now);

        Assert.False(verdict.Allowed);
        Assert.Contains("not a method partners can call", verdict.Reason);
    }

    [Fact]
    public void Unmet_request_precondition_names_the_missing_field()
    {
        var verdict = new AccessPolicy(DefaultPolicy.Snapshot(Now), MethodCatalog.Chain).Decide(
            new AccessRequest("iom", new HashSet<string> { "return" }, "return", "chain.returns.v1.ReturnCoordination/ShareReturnWithCoMensha", false), Now);
        var empty = new Chain.Returns.V1.ShareReturnWithCoMenshaRequest { ReturnCaseId = "rc-1", ConsentId = "" };
        var consented = new Chain.Returns.V1.ShareReturnWithCoMenshaRequest { ReturnCaseId = "rc-1", ConsentId = "c-1" };

        Assert.True(verdict.Allowed);
        Assert.Contains("consent_id", verdict.Access!.CheckRequest(empty));
        Assert.Null(verdict.Access.CheckRequest(consented));
    }

    [Theory]
    [InlineData("OpenD9Signal")]
    [InlineData("LiftD9Suspension")]
    [InlineData("RecordDeparture")]
    [InlineData("RecordReturnOutcome")]
    [InlineData("GetReturnCase")]
    public void DTV_is_not_shown_IOMs_health_related_risk_factors_or_retrafficking_assessment(string method)
    {
        var verdict = new AccessPolicy(DefaultPolicy.Snapshot(Now), MethodCatalog.Chain).Decide(
            new AccessRequest("dtv", new HashSet<string> { "return" }, "return", $"chain.returns.v1.ReturnCoordination/{method}", false), Now);

        Assert.True(verdict.Allowed);
        var removed = verdict.Access!.ResponseMask.RemovedPaths();
        Assert.Contains("return_case.risk_factors", removed);
        Assert.Contains("return_case.monitoring.risk_factors", removed);
        Assert.Contains("return_case.retrafficking_assessment", removed);
        Assert.DoesNotContain(removed, p => p.StartsWith("return_case.d9", StringComparison.Ordinal) || p.StartsWith("return_case.departure", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("care", "RequestPlacement")]
    [InlineData("care", "GetPlacement")]
    [InlineData("nidos", "RequestPlacement")]
    [InlineData("nidos", "GetPlacement")]
    [InlineData("shelter-jade", "GetPlacement")]
    [InlineData("shelter-jade", "RecordPlacementDecision")]
    [InlineData("shelter-womens-utrecht", "RecordPlacementDecision")]
    public void Only_CoMensha_is_shown_a_placements_COSM_admission_and_why_it_was_refused(string partner, string method)
    {
        var policy = new AccessPolicy(DefaultPolicy.Snapshot(Now), MethodCatalog.Chain);
        AccessRequest As(string partnerId) => new(partnerId, new HashSet<string> { "victim_care" }, "victim_care", $"chain.shelter.v1.ShelterCapacity/{method}", false);

        var verdict = policy.Decide(As(partner), Now);
        var coordinator = policy.Decide(As("comensha"), Now);

        Assert.True(verdict.Allowed);
        var removed = verdict.Access!.ResponseMask.RemovedPaths();
        Assert.Contains("placement.cosm_eligible", removed);
        Assert.Contains("placement.ineligibility_reasons", removed);
        Assert.DoesNotContain(removed, p => p is "placement.state" or "placement.waiting_list" or "placement.placement_id" or "placement.version");
        Assert.Empty(coordinator.Access!.ResponseMask.RemovedPaths());
    }

    [Theory]
    [InlineData("shelter-jade")]
    [InlineData("shelter-womens-utrecht")]
    public void A_shelter_lists_placements_as_it_reads_one_and_only_CoMensha_is_shown_COSM_admission(string partner)
    {
        var policy = new AccessPolicy(DefaultPolicy.Snapshot(Now), MethodCatalog.Chain);
        AccessRequest As(string partnerId) => new(partnerId, new HashSet<string> { "victim_care" }, "victim_care", "chain.shelter.v1.ShelterCapacity/ListPlacements", false);

        var verdict = policy.Decide(As(partner), Now);
        var coordinator = policy.Decide(As("comensha"), Now);
        var police = policy.Decide(new AccessRequest("police", new HashSet<string> { "criminal_investigation" }, "criminal_investigation", "chain.shelter.v1.ShelterCapacity/ListPlacements", false), Now);

        Assert.True(verdict.Allowed);
        var removed = verdict.Access!.ResponseMask.RemovedPaths();
        Assert.Contains("placements.cosm_eligible", removed);
        Assert.Contains("placements.ineligibility_reasons", removed);
        Assert.DoesNotContain(removed, p => p is "placements.state" or "placements.shelter_id" or "placements.placement_id" or "placements.version" or "next_page_token");
        Assert.Empty(coordinator.Access!.ResponseMask.RemovedPaths());
        Assert.False(police.Allowed);
    }

    private static AccessRequest Request(string purpose, string method) => new("care", CarePurposes, purpose, method, false);
}
