using System.Diagnostics;
using Chain.Audit.V1;
using Google.Protobuf;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace Ketenmesh.Gateway.Tests;

/// <summary>chain.audit.v1.AuditTrail on the running gateway: partners read their own decisions, officers report on subjects.</summary>
public sealed class AuditTrailTests : IAsyncLifetime
{

    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync()
    {
        _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);
        var request = new Chain.Registry.V1.GetRegistrationRequest { RegistrationId = "reg-42" }.ToByteArray();
        await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [request], _mesh.As("care", "victim_care"));
        await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [request], _mesh.As("police", "criminal_investigation"));
        await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [request], _mesh.As("police", "statistics"));
        await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [request], _mesh.As("rapporteur", "statistics"));
    }

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private AuditTrail.AuditTrailClient Trail => _mesh.Channel.AuditTrail();

    [Fact]
    public async Task A_partner_reads_its_own_decisions_allowed_and_denied_and_nobody_elses()
    {
        var mine = await Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest(), GatewayMesh.Options(_mesh.As("police", null))).ResponseAsync;

        // The calls' own decisions: the stand-in's answer names another registration, on record beside them.
        var registry = mine.Decisions.Where(d => d.Method.StartsWith("chain.registry.v1", StringComparison.Ordinal) && d.Reason != Ketenmesh.Gateway.Forwarding.MinimisedResponse.PersonFound).ToList();
        Assert.All(mine.Decisions, d => Assert.Equal("police", d.PartnerId));
        Assert.Equal(2, registry.Count);
        // A refused call's request is never read, so only the allowed one names its subject.
        Assert.Contains(registry, d => d.Allowed && d.GrantId == "police-criminal-investigation" && d.SubjectPseudonym == "registration_id:reg-42");
        Assert.Contains(registry, d => !d.Allowed && d.Purpose == "statistics");
    }

    [Fact]
    public async Task Pages_follow_each_other_without_overlap()
    {
        var first = await Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest { PageSize = 1 }, GatewayMesh.Options(_mesh.As("police", null))).ResponseAsync;
        var second = await Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest { PageSize = 1, AfterSequence = first.NextAfterSequence }, GatewayMesh.Options(_mesh.As("police", null))).ResponseAsync;

        Assert.NotEqual(0, first.NextAfterSequence);
        Assert.True(second.Decisions.Single().Sequence > first.Decisions.Single().Sequence);
    }

    [Fact]
    public async Task Reading_the_trail_is_itself_on_record()
    {
        await Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest(), GatewayMesh.Options(_mesh.As("care", null))).ResponseAsync;

        var audit = await _mesh.AuditAsync();
        Assert.Contains(audit, e => e.PartnerId == "care" && e.Method == "chain.audit.v1.AuditTrail/ListMyDecisions");
    }

    [Fact]
    public async Task An_officers_subject_report_withholds_the_investigation_until_released()
    {
        var before = await Trail.GetSubjectAccessReportAsync(new GetSubjectAccessReportRequest { SubjectPseudonym = "registration_id:reg-42" }, GatewayMesh.Options(_mesh.AsOfficer())).ResponseAsync;
        var investigation = (await _mesh.AuditAsync()).FindIndex(e => e.GrantId == "police-criminal-investigation") + 1;
        await Trail.ReleaseDecisionAsync(new ReleaseDecisionRequest { Sequence = investigation, Reason = "investigation closed" }, GatewayMesh.Options(_mesh.AsOfficer("privacy-officer-2"))).ResponseAsync;
        var after = await Trail.GetSubjectAccessReportAsync(new GetSubjectAccessReportRequest { SubjectPseudonym = "registration_id:reg-42" }, GatewayMesh.Options(_mesh.AsOfficer())).ResponseAsync;

        Assert.Contains(before.Accesses, a => a.PartnerId == "care" && a.Allowed);
        Assert.DoesNotContain(before.Accesses, a => a.Sequence == investigation);
        Assert.Equal(1, before.Withheld);
        Assert.Contains(after.Accesses, a => a.Sequence == investigation && a.PartnerId == "police");
        Assert.Equal(0, after.Withheld);
    }

    [Fact]
    public async Task A_partner_cannot_have_a_subject_report_or_release_anything()
    {
        var report = await Assert.ThrowsAsync<RpcException>(() => Trail.GetSubjectAccessReportAsync(new GetSubjectAccessReportRequest { SubjectPseudonym = "registration_id:reg-42" }, GatewayMesh.Options(_mesh.As("police", null))).ResponseAsync);
        var release = await Assert.ThrowsAsync<RpcException>(() => Trail.ReleaseDecisionAsync(new ReleaseDecisionRequest { Sequence = 2, Reason = "x" }, GatewayMesh.Options(_mesh.As("police", null))).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, report.StatusCode);
        Assert.Contains("privacy officers", report.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, release.StatusCode);
    }

    [Fact]
    public async Task A_partner_asking_over_and_over_for_what_only_officers_may_writes_a_bounded_number_of_records()
    {
        const int calls = 60;
        var police = GatewayMesh.Options(_mesh.As("police", null));
        var clock = Stopwatch.StartNew();

        var refusals = await Task.WhenAll(Enumerable.Range(0, calls).Select(i => Assert.ThrowsAsync<RpcException>(() => i % 2 == 0
            ? Trail.GetSubjectAccessReportAsync(new GetSubjectAccessReportRequest { SubjectPseudonym = "registration_id:reg-42" }, police).ResponseAsync
            : Trail.ReleaseDecisionAsync(new ReleaseDecisionRequest { Sequence = 2, Reason = "x" }, police).ResponseAsync)));
        var elapsed = clock.Elapsed;

        Assert.All(refusals, r => Assert.Contains(r.StatusCode, new[] { StatusCode.PermissionDenied, StatusCode.ResourceExhausted }));
        Assert.Contains(refusals, r => r.StatusCode == StatusCode.PermissionDenied);
        // Every refusal is on record once its window closes, the repeats folded into a record with their count.
        List<AuditEntry> records = [];
        await Eventually.SucceedsAsync(async () =>
        {
            records = (await _mesh.AuditAsync()).Where(e => e is { PartnerId: "police", Decision: AuditDecision.Denied }
                && e.Method.StartsWith("chain.audit.v1.AuditTrail/", StringComparison.Ordinal)).ToList();
            Assert.Equal(calls, records.Sum(r => r.Count));
        }, TimeSpan.FromSeconds(15));
        // At most two records per window of one second for each of the two sources (not an officer, over the rate).
        var windows = (int)Math.Ceiling(elapsed.TotalSeconds) + 1;
        Assert.True(records.Count <= 2 * 2 * windows, $"{records.Count} records for {calls} refusals in {elapsed.TotalSeconds:N1} s");
    }

    [Fact]
    public async Task Without_a_token_nothing_is_read()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest(), GatewayMesh.Options([])).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task A_page_size_above_the_maximum_is_clamped_not_refused()
    {
        var page = await Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest { PageSize = 5000 }, GatewayMesh.Options(_mesh.As("police", null))).ResponseAsync;

        Assert.InRange(page.Decisions.Count, 1, 1000);
        Assert.All(page.Decisions, d => Assert.Equal("police", d.PartnerId));
    }

    [Fact]
    public async Task Bad_requests_name_the_field()
    {
        var page = await Assert.ThrowsAsync<RpcException>(() => Trail.ListMyDecisionsAsync(new ListMyDecisionsRequest { PageSize = -1 }, GatewayMesh.Options(_mesh.As("police", null))).ResponseAsync);
        var subject = await Assert.ThrowsAsync<RpcException>(() => Trail.GetSubjectAccessReportAsync(new GetSubjectAccessReportRequest { SubjectPseudonym = "reg-42" }, GatewayMesh.Options(_mesh.AsOfficer())).ResponseAsync);
        var release = await Assert.ThrowsAsync<RpcException>(() => Trail.ReleaseDecisionAsync(new ReleaseDecisionRequest { Sequence = 1, Reason = "" }, GatewayMesh.Options(_mesh.AsOfficer())).ResponseAsync);
        var missing = await Assert.ThrowsAsync<RpcException>(() => Trail.ReleaseDecisionAsync(new ReleaseDecisionRequest { Sequence = 1, Reason = "care record, not confidential" }, GatewayMesh.Options(_mesh.AsOfficer())).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, page.StatusCode);
        Assert.Contains("page_size", page.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, subject.StatusCode);
        Assert.Contains("subject_pseudonym", subject.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, release.StatusCode);
        Assert.Contains("reason", release.Status.Detail);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }
}
