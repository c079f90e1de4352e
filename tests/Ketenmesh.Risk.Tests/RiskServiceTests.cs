using Chain.Common.V1;
using Chain.Risk.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using Ketenmesh.Risk.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Risk.Tests.RiskHost;

namespace Ketenmesh.Risk.Tests;

/// <summary>The risk service on the embedded profile: SQLite and the in-process bus, as `./mesh up` runs it.</summary>
public sealed class RiskServiceTests : IAsyncLifetime
{
    private RiskHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<int> AssessmentRowsAsync(string signalId)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RiskDbContext>().Assessments.CountAsync(a => a.SignalId == signalId);
    }

    [Fact]
    public async Task A_received_signal_is_assessed_and_every_point_is_explained()
    {
        await _host.PublishSignalAsync("sig-1", false, null, Indicator.LabourDocumentsConfiscated, Indicator.LabourHousingFromEmployer, Indicator.LabourTravelDebt);

        var assessment = await _host.AssessmentOfAsync("sig-1");
        var explained = await _host.Channel.Risk().ExplainAssessmentAsync(new ExplainAssessmentRequest { AssessmentId = assessment.AssessmentId }, As("police"));

        Assert.Equal(RiskBand.High, assessment.Band);
        Assert.Equal(Track.CriminalInvestigation, assessment.RecommendedTrack);
        Assert.Equal("2026.3", assessment.RuleSetVersion);
        Assert.Equal(["LAB-504", "LAB-505", "LAB-506", "LAB-900"], explained.Contributions.Select(c => c.RuleId).Order());
        Assert.Equal(assessment.Score, explained.Contributions.Sum(c => c.Weight));
    }

    [Fact]
    public async Task A_redelivered_signal_is_assessed_once_and_announced_once()
    {
        var messageId = Guid.NewGuid();
        await _host.PublishSignalAsync("sig-2", true, messageId);
        await _host.PublishSignalAsync("sig-2", true, messageId);
        await _host.PublishSignalAsync("sig-2", true);

        var assessment = await _host.AssessmentOfAsync("sig-2");
        await Task.Delay(300);

        Assert.Equal(RiskBand.Critical, assessment.Band);
        Assert.Equal([EscalationFlag.Minor], assessment.EscalationFlags);
        Assert.Equal(1, await AssessmentRowsAsync("sig-2"));
        Assert.Single(_host.Events.Received, e => e.SignalId == "sig-2" && e.Band == RiskBand.Critical);
    }

    [Fact]
    public async Task A_new_rule_set_reassesses_every_signal_once_and_keeps_the_earlier_answers()
    {
        // A mesh still on 2026.1, as every mesh was before 2026.3 shipped.
        await _host.Channel.Risk().ReassessOpenSignalsAsync(new ReassessOpenSignalsRequest { RuleSetVersion = "2026.1" }, As("comensha"));
        await _host.PublishSignalAsync("sig-3", false, null, Indicator.LabourSevenDayLongWeeks, Indicator.LabourPayFarBelowMinimum);
        await _host.PublishSignalAsync("sig-4", false, null, Indicator.DependencyDebts);
        var before = await _host.AssessmentOfAsync("sig-3");
        await _host.AssessmentOfAsync("sig-4");

        var dry = await _host.Channel.Risk().ReassessOpenSignalsAsync(new ReassessOpenSignalsRequest { RuleSetVersion = "2026.2", DryRun = true }, As("comensha"));
        var run = await _host.Channel.Risk().ReassessOpenSignalsAsync(new ReassessOpenSignalsRequest { RuleSetVersion = "2026.2" }, As("comensha"));
        var again = await _host.Channel.Risk().ReassessOpenSignalsAsync(new ReassessOpenSignalsRequest { RuleSetVersion = "2026.2" }, As("comensha"));
        var after = await _host.AssessmentOfAsync("sig-3");
        var old = await _host.AssessmentOfAsync("sig-3", "2026.1");
        var sets = await _host.Channel.Risk().ListRuleSetsAsync(new ListRuleSetsRequest(), As("comensha"));

        Assert.Equal(Track.Administrative, before.RecommendedTrack);
        Assert.Equal(Track.CriminalInvestigation, after.RecommendedTrack);
        Assert.Equal("2026.2", after.RuleSetVersion);
        Assert.Equal(before.AssessmentId, old.AssessmentId);
        Assert.True(dry.SignalsReassessed >= 2 && dry.TrackChanged >= 1, dry.ToString());
        Assert.Equal(dry.SignalsReassessed, run.SignalsReassessed);
        Assert.Equal(0, again.SignalsReassessed);
        Assert.Equal(run.SignalsReassessed, again.AlreadyCurrent);
        Assert.Equal(RuleSetState.Active, sets.RuleSets.Single(r => r.Version == "2026.2").State);
        Assert.Equal(RuleSetState.Retired, sets.RuleSets.Single(r => r.Version == "2026.1").State);
        Assert.Equal(2, await AssessmentRowsAsync("sig-3"));
    }

    [Fact]
    public async Task Signals_arriving_after_a_new_version_is_active_are_assessed_under_it()
    {
        await _host.Channel.Risk().ReassessOpenSignalsAsync(new ReassessOpenSignalsRequest { RuleSetVersion = "2026.2" }, As("comensha"));

        await _host.PublishSignalAsync("sig-5", false, null, Indicator.FreedomNoControlOfEarnings);

        var assessment = await _host.AssessmentOfAsync("sig-5");
        Assert.Equal("2026.2", assessment.RuleSetVersion);
        Assert.Equal(15, assessment.Score);
    }

    [Fact]
    public async Task Bad_requests_say_what_is_wrong()
    {
        var noSignal = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Risk().GetAssessmentAsync(new GetAssessmentRequest(), As("police")).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Risk().GetAssessmentAsync(new GetAssessmentRequest { SignalId = "sig-none" }, As("police")).ResponseAsync);
        var noVersion = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Risk().ReassessOpenSignalsAsync(new ReassessOpenSignalsRequest { RuleSetVersion = "1999.1" }, As("comensha")).ResponseAsync);
        var page = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Risk().ListRuleSetsAsync(new ListRuleSetsRequest { PageSize = 1000 }, As("comensha")).ResponseAsync);
        var explain = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Risk().ExplainAssessmentAsync(new ExplainAssessmentRequest { AssessmentId = "as-none" }, As("police")).ResponseAsync);
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Risk().GetAssessmentAsync(new GetAssessmentRequest { SignalId = "sig-1" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, noSignal.StatusCode);
        Assert.Contains("signal_id", noSignal.Status.Detail);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(StatusCode.NotFound, noVersion.StatusCode);
        Assert.Contains("ListRuleSets", noVersion.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, page.StatusCode);
        Assert.Equal(StatusCode.NotFound, explain.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
    }

    [Fact]
    public async Task Rule_sets_page_newest_first()
    {
        var first = await _host.Channel.Risk().ListRuleSetsAsync(new ListRuleSetsRequest { PageSize = 1 }, As("comensha"));
        var second = await _host.Channel.Risk().ListRuleSetsAsync(new ListRuleSetsRequest { PageSize = 1, PageToken = first.NextPageToken }, As("comensha"));

        Assert.Equal("2026.3", first.RuleSets.Single().Version);
        Assert.Equal(RuleSetState.Active, first.RuleSets.Single().State);
        Assert.Equal("2026.2", second.RuleSets.Single().Version);
        Assert.Equal(RuleSetState.Draft, second.RuleSets.Single().State);
        Assert.NotEmpty(second.NextPageToken);
    }

    [Fact]
    public async Task A_request_without_its_signal_is_refused_field_by_field_and_an_anonymous_one_learns_nothing()
    {
        var missing = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Risk().GetAssessmentAsync(new GetAssessmentRequest(), As("police")).ResponseAsync);
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Risk().GetAssessmentAsync(new GetAssessmentRequest()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);
        var violation = Assert.Single(missing.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations);
        Assert.Equal("signal_id", violation.Field);
        Assert.StartsWith("is required", violation.Description, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
    }
}
