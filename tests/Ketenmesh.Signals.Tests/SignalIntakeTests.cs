using Chain.Common.V1;
using Chain.Signals.V1;
using Google.Rpc;
using Grpc.Core;
using Ketenmesh.Testing;
using Grpc.Net.Client;
using static Ketenmesh.Signals.Tests.SignalsHost;

namespace Ketenmesh.Signals.Tests;

/// <summary>Signal intake over real gRPC on the embedded profile (SQLite file, in-process bus).</summary>
public sealed class SignalIntakeTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("ketenmesh-signals-").FullName;
    private SignalsHost _host = null!;

    private ChannelBase Client => _host.Channel;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync(_dataDirectory);

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Submitted_signal_is_stored_and_read_back_by_its_reporter()
    {
        var submitted = await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "insp-2026-0001", Observation = Observations.LabourInspection() }, As("inspectorate"));
        Assert.False(submitted.Duplicate);
        Assert.Equal(SignalStatus.Received, submitted.Signal.Status);
        Assert.Equal(PartnerType.Inspectorate, submitted.Signal.ReporterPartner);

        var read = await Client.Intake().GetSignalAsync(new GetSignalRequest { SignalId = submitted.Signal.SignalId }, As("inspectorate"));
        Assert.Equal(submitted.Signal, read.Signal);
        Assert.Equal(Observations.LabourInspection(), read.Signal.Observation);
    }

    [Fact]
    public async Task Resubmission_with_the_same_client_request_id_returns_the_same_signal_marked_duplicate()
    {
        var request = new SubmitSignalRequest { ClientRequestId = "pol-77", Observation = Observations.PoliceCheck() };
        var first = await Client.Intake().SubmitSignalAsync(request, As("police"));
        var second = await Client.Intake().SubmitSignalAsync(request, As("police"));
        Assert.True(second.Duplicate);
        Assert.Equal(first.Signal.SignalId, second.Signal.SignalId);

        var events = await _host.Events.WaitForAsync(1, TimeSpan.FromSeconds(5));
        await Task.Delay(200);
        Assert.Single(_host.Events.SignalsReceived, e => e.Event.SignalId == first.Signal.SignalId);
        Assert.Single(events);
    }

    [Fact]
    public async Task Same_client_request_id_from_two_partners_is_two_signals()
    {
        var request = new SubmitSignalRequest { ClientRequestId = "shared-1", Observation = Observations.PoliceCheck() };
        var police = await Client.Intake().SubmitSignalAsync(request, As("police"));
        var kmar = await Client.Intake().SubmitSignalAsync(request, As("kmar"));
        Assert.False(kmar.Duplicate);
        Assert.NotEqual(police.Signal.SignalId, kmar.Signal.SignalId);
    }

    [Fact]
    public async Task Reusing_a_client_request_id_for_a_different_signal_is_already_exists()
    {
        await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-78", Observation = Observations.PoliceCheck() }, As("police"));
        var error = await Assert.ThrowsAsync<RpcException>(() => Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-78", Observation = Observations.LabourInspection() }, As("police")).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Contains("pol-78", error.Status.Detail);
    }

    [Fact]
    public async Task Concurrent_resubmissions_create_exactly_one_signal_and_one_event()
    {
        var request = new SubmitSignalRequest { ClientRequestId = "raid-retry", Observation = Observations.LabourInspection() };
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Client.Intake().SubmitSignalAsync(request, As("inspectorate")).ResponseAsync));
        Assert.Single(responses.Select(r => r.Signal.SignalId).Distinct());
        Assert.Single(responses, r => !r.Duplicate);
        await _host.Events.WaitForAsync(1, TimeSpan.FromSeconds(5));
        await Task.Delay(300);
        Assert.Single(_host.Events.SignalsReceived);
    }

    [Fact]
    public async Task Invalid_signal_is_invalid_argument_with_a_violation_per_field()
    {
        var observation = Observations.PoliceCheck();
        observation.ObservedOn = new Date { Year = 2031, Month = 1, Day = 1 };
        observation.Channel = SignalChannel.Unspecified;
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "bad id", Observation = observation }, As("police")).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var violations = error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field).ToList();
        Assert.Equal(["client_request_id", "observation.channel", "observation.observed_on.year"], violations);
        Assert.Empty(_host.Events.SignalsReceived);
    }

    [Fact]
    public async Task Call_without_partner_identity_is_unauthenticated_and_stores_nothing()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "anon-1", Observation = Observations.PoliceCheck() }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        var list = await Client.Intake().ListMySignalsAsync(new ListMySignalsRequest(), As("police"));
        Assert.Empty(list.Signals);
    }

    [Fact]
    public async Task Another_partners_signal_is_not_found_so_its_existence_does_not_leak()
    {
        var submitted = await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-1", Observation = Observations.PoliceCheck() }, As("police"));
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Client.Intake().GetSignalAsync(new GetSignalRequest { SignalId = submitted.Signal.SignalId }, As("municipality")).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task List_my_signals_pages_newest_first_and_shows_only_mine()
    {
        var mine = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            var response = await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = $"insp-{i}", Observation = Observations.LabourInspection(i) }, As("inspectorate"));
            mine.Add(response.Signal.SignalId);
        }
        await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-x", Observation = Observations.PoliceCheck() }, As("police"));

        var seen = new List<string>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await Client.Intake().ListMySignalsAsync(new ListMySignalsRequest { PageSize = 10, PageToken = token }, As("inspectorate"));
            seen.AddRange(page.Signals.Select(s => s.SignalId));
            token = page.NextPageToken;
            pages++;
        }
        while (token.Length > 0);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(mine), seen);
    }

    [Fact]
    public async Task List_filters_by_status()
    {
        await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-2", Observation = Observations.PoliceCheck() }, As("police"));
        var received = await Client.Intake().ListMySignalsAsync(new ListMySignalsRequest { StatusFilter = { SignalStatus.Received } }, As("police"));
        var closed = await Client.Intake().ListMySignalsAsync(new ListMySignalsRequest { StatusFilter = { SignalStatus.Closed } }, As("police"));
        Assert.Single(received.Signals);
        Assert.Empty(closed.Signals);
    }

    [Fact]
    public async Task A_status_filter_of_a_million_entries_is_invalid_argument_and_one_repeating_a_status_is_a_set()
    {
        await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-3", Observation = Observations.PoliceCheck() }, As("police"));

        // Two million entries (2 MB) once took gigabytes and wrote a 111 MB log line with the SQL of their parameters.
        var flood = await Assert.ThrowsAsync<RpcException>(() => Client.Intake().ListMySignalsAsync(
            new ListMySignalsRequest { StatusFilter = { Enumerable.Repeat(SignalStatus.Received, 1_000_000) } }, As("police")).ResponseAsync);
        var repeated = await Client.Intake().ListMySignalsAsync(
            new ListMySignalsRequest { StatusFilter = { Enumerable.Repeat(SignalStatus.Received, 1_000) } }, As("police"));

        Assert.Equal(StatusCode.InvalidArgument, flood.StatusCode);
        Assert.Contains("status_filter at most 1000 entries, not 1000000.", flood.Status.Detail);
        Assert.Single(repeated.Signals);
    }

    [Fact]
    public async Task A_list_inside_the_request_is_capped_too_and_named_by_its_path()
    {
        var observation = Observations.PoliceCheck();
        observation.ObservedIndicators.Add(Enumerable.Repeat(Indicator.FreedomNoOwnIdPapers, 1_001));

        var refusal = await Assert.ThrowsAsync<RpcException>(() => Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-4", Observation = observation }, As("police")).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, refusal.StatusCode);
        Assert.Contains($"observation.observed_indicators at most 1000 entries, not {observation.ObservedIndicators.Count}.", refusal.Status.Detail);
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("MTIzNDU")]
    public async Task Page_token_not_handed_out_by_us_is_invalid_argument(string token)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Client.Intake().ListMySignalsAsync(new ListMySignalsRequest { PageToken = token }, As("police")).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("page_token", error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Single().Field);
    }

    [Fact]
    public async Task Page_size_above_the_maximum_is_invalid_argument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Client.Intake().ListMySignalsAsync(new ListMySignalsRequest { PageSize = 501 }, As("police")).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task Every_accepted_signal_leaves_as_SignalReceived_through_the_outbox()
    {
        var ids = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            var response = await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = $"insp-ev-{i}", Observation = Observations.LabourInspection(i) }, As("inspectorate"));
            ids.Add(response.Signal.SignalId);
        }
        var events = await _host.Events.WaitForAsync(40, TimeSpan.FromSeconds(10));
        Assert.Equal(ids, events.Select(e => e.SignalId).ToHashSet());
        Assert.All(events, e =>
        {
            Assert.Equal(PartnerType.Inspectorate, e.ReporterPartner);
            Assert.Equal(SignalChannel.Inspectorate, e.Channel);
            Assert.NotEmpty(e.EventId);
        });
    }

    [Fact]
    public async Task SignalReceived_carries_what_assessment_and_linkage_need_and_never_the_note()
    {
        var observation = Observations.LabourInspection(7);
        observation.MinorSuspected = true;
        var response = await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "insp-facts-1", Observation = observation }, As("inspectorate"));

        var received = (await _host.Events.WaitForAsync(e => e.SignalId == response.Signal.SignalId, TimeSpan.FromSeconds(10)));

        Assert.Equal(observation.ObservedIndicators, received.ObservedIndicators);
        Assert.Equal(observation.SuspectedForm, received.SuspectedForm);
        Assert.Equal(observation.Sector, received.Sector);
        Assert.Equal(observation.LocationType, received.LocationType);
        Assert.True(received.MinorSuspected);
        Assert.Equal(observation.PersonLinkKeys, received.PersonLinkKeys);
        // Classifications and pseudonyms only: the free text stays with the signal, behind the gateway.
        Assert.DoesNotContain("paspoort", received.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Batch_answers_each_item_as_it_goes_with_running_progress()
    {
        using var call = Client.Intake().SubmitSignalBatch(As("inspectorate"));
        var answers = new List<SubmitSignalBatchResponse>();
        for (var i = 0; i < 8; i++)
        {
            var observation = Observations.LabourInspection(i);
            if (i == 5)
            {
                observation.ObservedIndicators.Add((Indicator)4242);
            }
            await call.RequestStream.WriteAsync(new SubmitSignalBatchRequest { ClientRequestId = i == 7 ? "raid-0" : $"raid-{i}", Observation = i == 7 ? Observations.LabourInspection(0) : observation });
            Assert.True(await call.ResponseStream.MoveNext(default));
            answers.Add(call.ResponseStream.Current);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(default));

        Assert.Equal(Enumerable.Range(1, 8), answers.Select(a => a.ItemsReceived));
        Assert.Equal(BatchItemOutcome.Rejected, answers[5].Outcome);
        Assert.Contains("observed_indicators[4]", answers[5].RejectionReason);
        Assert.Equal(BatchItemOutcome.Duplicate, answers[7].Outcome);
        Assert.Equal(answers[0].SignalId, answers[7].SignalId);
        Assert.Equal(7, answers[^1].ItemsAccepted);
        Assert.Equal(1, answers[^1].ItemsRejected);
    }

    [Fact]
    public async Task Batch_written_all_at_once_is_committed_in_groups_with_every_item_answered_in_order_and_published_once()
    {
        using var call = Client.Intake().SubmitSignalBatch(As("inspectorate"));
        const int Items = 250;
        for (var i = 0; i < Items; i++)
        {
            // Within one stream: 120 repeats 10 (a safe retry), 121 reuses 11's id for another observation, 130 is invalid.
            var (id, observation) = i switch
            {
                120 => ("bulk-10", Observations.LabourInspection(10)),
                121 => ("bulk-11", Observations.LabourInspection(9999)),
                _ => ($"bulk-{i}", Observations.LabourInspection(i)),
            };
            if (i == 130)
            {
                observation.ObservedIndicators.Add((Indicator)4242);
            }
            await call.RequestStream.WriteAsync(new SubmitSignalBatchRequest { ClientRequestId = id, Observation = observation });
        }
        await call.RequestStream.CompleteAsync();
        var answers = new List<SubmitSignalBatchResponse>();
        while (await call.ResponseStream.MoveNext(default))
        {
            answers.Add(call.ResponseStream.Current);
        }

        Assert.Equal(Enumerable.Range(1, Items), answers.Select(a => a.ItemsReceived));
        Assert.Equal(BatchItemOutcome.Duplicate, answers[120].Outcome);
        Assert.Equal(answers[10].SignalId, answers[120].SignalId);
        Assert.Equal(BatchItemOutcome.Rejected, answers[121].Outcome);
        Assert.Contains("already used", answers[121].RejectionReason);
        Assert.Equal(BatchItemOutcome.Rejected, answers[130].Outcome);
        Assert.Equal(Items - 2, answers[^1].ItemsAccepted);
        var stored = answers.Where(a => a.Outcome == BatchItemOutcome.Accepted).Select(a => a.SignalId).ToList();
        Assert.Equal(Items - 3, stored.Distinct().Count());

        await _host.Events.WaitForAsync(stored.Count, TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        Assert.Equal(stored.Order(), _host.Events.SignalsReceived.Select(e => e.Event.SignalId).Order());
        foreach (var id in stored.Take(5).Append(stored[^1]))
        {
            Assert.Equal(id, (await Client.Intake().GetSignalAsync(new GetSignalRequest { SignalId = id }, As("inspectorate"))).Signal.SignalId);
        }
    }

    [Fact]
    public async Task Watch_streams_the_callers_new_signals_and_not_other_partners()
    {
        using var watch = Client.Intake().WatchMySignals(new WatchMySignalsRequest(), As("police"));
        await watch.ResponseHeadersAsync;
        await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "kmar-1", Observation = Observations.PoliceCheck() }, As("kmar"));
        var mine = await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-w", Observation = Observations.PoliceCheck() }, As("police"));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.True(await watch.ResponseStream.MoveNext(timeout.Token));
        Assert.Equal(mine.Signal.SignalId, watch.ResponseStream.Current.Change.SignalId);
        Assert.Equal(SignalStatus.Received, watch.ResponseStream.Current.Change.NewStatus);
        Assert.NotEmpty(watch.ResponseStream.Current.ResumeToken);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("abc")]
    [InlineData("99999999999999999999")]
    [InlineData("3155378975999999999")]
    public async Task A_resume_token_this_service_never_handed_out_is_an_invalid_argument(string token)
    {
        using var watch = Client.Intake().WatchMySignals(new WatchMySignalsRequest { ResumeToken = token }, As("police"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var error = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext(timeout.Token));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("resume_token", error.Status.Detail);
    }

    [Fact]
    public async Task Accepted_signal_survives_a_restart_of_the_service()
    {
        var submitted = await Client.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "pol-durable", Observation = Observations.PoliceCheck() }, As("police"));
        await _host.DisposeAsync();
        _host = await StartEmbeddedAsync(_dataDirectory);
        var read = await Client.Intake().GetSignalAsync(new GetSignalRequest { SignalId = submitted.Signal.SignalId }, As("police"));
        Assert.Equal(submitted.Signal, read.Signal);
    }
}
