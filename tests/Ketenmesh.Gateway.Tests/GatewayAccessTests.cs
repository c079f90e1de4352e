using Ketenmesh.Security;
using Chain.Common.V1;
using Chain.Signals.V1;
using Ketenmesh.Gateway.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Testing;

namespace Ketenmesh.Gateway.Tests;

/// <summary>Who gets through, and what they are told when they do not.</summary>
public sealed class GatewayAccessTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync();

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Police_submits_a_signal_and_the_service_sees_police_not_a_claimed_identity()
    {
        var metadata = _mesh.As("police", "signalling");
        metadata["x-chain-partner-id"] = "comensha"; // a forged trusted header must not survive the gateway
        var response = await _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request(), GatewayMesh.Options(metadata));

        Assert.Equal(PartnerType.Police, response.Signal.ReporterPartner);
        var decision = Assert.Single(await _mesh.AuditAsync());
        Assert.Equal(Ketenmesh.Audit.AuditDecision.Allowed, decision.Decision);
        Assert.Equal(("police", "signalling", "chain.signals.v1.SignalIntake/SubmitSignal", "police-signalling"),
            (decision.PartnerId, decision.Purpose, decision.Method, decision.GrantId));
        Assert.Matches("^[0-9a-f]{64}$", decision.GrantVersionHash);
        Assert.Contains("AVG", decision.LegalBasis);
    }

    [Fact]
    public async Task Call_without_token_is_unauthenticated_and_says_how_to_get_one()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request(), GatewayMesh.Options(new() { ["x-purpose"] = "signalling" })).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Contains("authorization: Bearer", error.Status.Detail);
        Assert.Equal(Ketenmesh.Audit.AuditDecision.Denied, Assert.Single(await _mesh.AuditAsync()).Decision);
    }

    [Fact]
    public async Task Garbage_token_is_unauthenticated()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request(),
            GatewayMesh.Options(new() { ["authorization"] = "Bearer not.a.token", ["x-purpose"] = "signalling" })).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.StartsWith("The access token was refused", error.Status.Detail);
    }

    [Fact]
    public async Task Call_without_purpose_is_denied_and_lists_the_tokens_purposes()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request(), GatewayMesh.Options(_mesh.As("police", purpose: null))).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("x-purpose", error.Status.Detail);
        Assert.Contains("criminal_investigation, signalling", error.Status.Detail);
    }

    [Fact]
    public async Task Purpose_outside_the_token_is_denied_even_when_a_grant_exists()
    {
        // Police holds a criminal_investigation grant for GetSignal, but this token carries signalling only.
        var metadata = _mesh.As("police", "criminal_investigation", Purpose.Signalling);
        var result = await _mesh.Raw.CallAsync("chain.signals.v1.SignalIntake/GetSignal", [new GetSignalRequest { SignalId = "x" }.ToByteArray()], metadata);

        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
        Assert.Contains("does not carry purpose 'criminal_investigation'", result.Message);
    }

    [Fact]
    public async Task Unknown_purpose_is_denied_without_echoing_control_characters()
    {
        var metadata = _mesh.As("police", "fishing\u0007expedition");
        var result = await _mesh.Raw.CallAsync("chain.signals.v1.SignalIntake/SubmitSignal", [SignalCalls.Request().ToByteArray()], metadata);

        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
        Assert.Contains("is not a chain purpose", result.Message);
        Assert.DoesNotContain("\u0007", result.Message);
    }

    [Fact]
    public async Task Care_partner_may_not_read_investigation_data()
    {
        // The layered case meeting: care brings signals in, but risk assessments stay with investigation.
        var result = await _mesh.Raw.CallAsync("chain.risk.v1.RiskAssessment/GetAssessment", [[]], _mesh.As("care", "victim_care"));

        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
        Assert.Contains("No grant lets partner 'care' call chain.risk.v1.RiskAssessment/GetAssessment for purpose 'victim_care'", result.Message);
        Assert.Empty(_mesh.Upstream.Calls);
    }

    [Fact]
    public async Task Denial_names_the_purposes_under_which_the_partner_could_call()
    {
        var denied = await _mesh.Raw.CallAsync("chain.risk.v1.RiskAssessment/GetAssessment", [[]], _mesh.As("municipality", "signalling"));
        Assert.Equal((int)StatusCode.PermissionDenied, denied.Status);
        Assert.Contains("Your grants allow it for: administrative_enforcement", denied.Message);
    }

    [Fact]
    public async Task Rapporteur_gets_statistics_and_nothing_else()
    {
        var statistics = await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetStatistics", [[]], _mesh.As("rapporteur", "statistics"));
        var registration = await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [[]], _mesh.As("rapporteur", "statistics"));

        Assert.Equal((int)StatusCode.OK, statistics.Status);
        Assert.Equal((int)StatusCode.PermissionDenied, registration.Status);
    }

    [Fact]
    public async Task Police_see_shelter_availability_but_not_who_is_placed()
    {
        const string shelter = "chain.shelter.v1.ShelterCapacity/";
        var police = _mesh.As("police", "criminal_investigation");
        var list = await _mesh.Raw.CallAsync(shelter + "ListShelters", [[]], police);
        var watch = await _mesh.Raw.CallAsync(shelter + "WatchCapacity", [[]], police);
        var placement = await _mesh.Raw.CallAsync(shelter + "GetPlacement", [[]], police);
        var waiting = await _mesh.Raw.CallAsync(shelter + "ListWaitingList", [[]], police);
        var placements = await _mesh.Raw.CallAsync(shelter + "ListPlacements", [[]], police);
        var requested = await _mesh.Raw.CallAsync(shelter + "RequestPlacement", [SampleMessages.Full(Ketenmesh.Policy.MethodCatalog.Chain.Find(shelter + "RequestPlacement")!.InputType)], police);

        Assert.Equal((int)StatusCode.OK, list.Status);
        Assert.Equal((int)StatusCode.OK, watch.Status);
        Assert.Equal((int)StatusCode.PermissionDenied, placement.Status);
        Assert.Equal((int)StatusCode.PermissionDenied, waiting.Status);
        Assert.Equal((int)StatusCode.PermissionDenied, placements.Status);
        Assert.Equal((int)StatusCode.OK, requested.Status);
        // A bed asked for during a raid: the police learn the placement's id, never whom or where.
        var fields = WireFields.Present(Ketenmesh.Policy.MethodCatalog.Chain.Find(shelter + "RequestPlacement")!.OutputType, Assert.Single(requested.Messages)).Select(p => p.Path).ToList();
        Assert.NotEmpty(fields);
        Assert.All(fields, f => Assert.Contains(f, new[] { "placement", "placement.placement_id", "placement.version" }));
    }

    [Fact]
    public async Task Each_shelter_updates_its_own_capacity_and_sees_placements_and_only_CoMensha_reads_the_waiting_lists()
    {
        const string shelter = "chain.shelter.v1.ShelterCapacity/";
        var jade = _mesh.As("shelter-jade", "victim_care");
        var group = _mesh.As("shelters", "victim_care");
        var comensha = _mesh.As("comensha", "victim_care");

        Assert.Equal((int)StatusCode.OK, (await _mesh.Raw.CallAsync(shelter + "ReportCapacity", [[]], jade)).Status);
        Assert.Equal((int)StatusCode.OK, (await _mesh.Raw.CallAsync(shelter + "GetPlacement", [[]], jade)).Status);
        Assert.Equal((int)StatusCode.OK, (await _mesh.Raw.CallAsync(shelter + "ListPlacements", [[]], jade)).Status);
        Assert.Equal((int)StatusCode.OK, (await _mesh.Raw.CallAsync(shelter + "RecordPlacementDecision", [[]], jade)).Status);
        Assert.Equal((int)StatusCode.PermissionDenied, (await _mesh.Raw.CallAsync(shelter + "ListWaitingList", [[]], jade)).Status);
        // The shelters as a group are no particular shelter: they report nothing and read no placement.
        Assert.Equal((int)StatusCode.PermissionDenied, (await _mesh.Raw.CallAsync(shelter + "ReportCapacity", [[]], group)).Status);
        Assert.Equal((int)StatusCode.PermissionDenied, (await _mesh.Raw.CallAsync(shelter + "GetPlacement", [[]], group)).Status);
        Assert.Equal((int)StatusCode.PermissionDenied, (await _mesh.Raw.CallAsync(shelter + "ListPlacements", [[]], group)).Status);
        Assert.Equal((int)StatusCode.OK, (await _mesh.Raw.CallAsync(shelter + "ListWaitingList", [[]], comensha)).Status);
        Assert.Equal((int)StatusCode.OK, (await _mesh.Raw.CallAsync(shelter + "GetPlacement", [[]], comensha)).Status);
        Assert.Equal((int)StatusCode.OK, (await _mesh.Raw.CallAsync(shelter + "ListPlacements", [[]], comensha)).Status);
        Assert.Equal((int)StatusCode.PermissionDenied, (await _mesh.Raw.CallAsync(shelter + "ReportCapacity", [[]], comensha)).Status);
    }

    [Fact]
    public async Task The_inspectorate_and_CoMensha_end_a_large_group_arrangement_and_the_inspectorate_places_under_it_but_the_police_do_neither()
    {
        const string shelter = "chain.shelter.v1.ShelterCapacity/";
        var inspectorate = _mesh.As("inspectorate", "criminal_investigation");
        var police = _mesh.As("police", "criminal_investigation");

        Assert.Equal((int)StatusCode.OK, (await _mesh.Raw.CallAsync(shelter + "EndLargeGroupArrangement", [[]], inspectorate)).Status);
        Assert.Equal((int)StatusCode.OK, (await _mesh.Raw.CallAsync(shelter + "EndLargeGroupArrangement", [[]], _mesh.As("comensha", "victim_care"))).Status);
        Assert.Equal((int)StatusCode.PermissionDenied, (await _mesh.Raw.CallAsync(shelter + "EndLargeGroupArrangement", [[]], police)).Status);
        Assert.Equal((int)StatusCode.PermissionDenied, (await _mesh.Raw.CallAsync(shelter + "EndLargeGroupArrangement", [[]], _mesh.As("shelter-jade", "victim_care"))).Status);
        var requested = await _mesh.Raw.CallAsync(shelter + "RequestPlacement", [SampleMessages.Full(Ketenmesh.Policy.MethodCatalog.Chain.Find(shelter + "RequestPlacement")!.InputType)], inspectorate);
        Assert.Equal((int)StatusCode.OK, requested.Status);
        // As the police during a raid: the placement's id, never whom or where.
        var fields = WireFields.Present(Ketenmesh.Policy.MethodCatalog.Chain.Find(shelter + "RequestPlacement")!.OutputType, Assert.Single(requested.Messages)).Select(p => p.Path).ToList();
        Assert.All(fields, f => Assert.Contains(f, new[] { "placement", "placement.placement_id", "placement.version" }));
    }

    [Fact]
    public async Task Investigators_confirm_identification_and_IOM_links_its_return_case_but_care_does_neither()
    {
        const string changeStatus = "chain.registry.v1.VictimRegistry/ChangeStatus";
        const string linkRecords = "chain.registry.v1.VictimRegistry/LinkRecords";
        var police = await _mesh.Raw.CallAsync(changeStatus, [[]], _mesh.As("police", "criminal_investigation"));
        var inspectorate = await _mesh.Raw.CallAsync(changeStatus, [[]], _mesh.As("inspectorate", "criminal_investigation"));
        var shelter = await _mesh.Raw.CallAsync(changeStatus, [[]], _mesh.As("shelters", "victim_care"));
        var iom = await _mesh.Raw.CallAsync(linkRecords, [[]], _mesh.As("iom", "return"));
        var iomReads = await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [[]], _mesh.As("iom", "return"));
        var care = await _mesh.Raw.CallAsync(linkRecords, [[]], _mesh.As("care", "victim_care"));

        Assert.Equal((int)StatusCode.OK, police.Status);
        Assert.Equal((int)StatusCode.OK, inspectorate.Status);
        Assert.Equal((int)StatusCode.PermissionDenied, shelter.Status);
        Assert.Equal((int)StatusCode.OK, iom.Status);
        Assert.Equal((int)StatusCode.PermissionDenied, iomReads.Status);
        Assert.Equal((int)StatusCode.PermissionDenied, care.Status);
    }

    [Fact]
    public async Task Iom_shares_a_return_with_comensha_only_with_recorded_consent()
    {
        const string method = "chain.returns.v1.ReturnCoordination/ShareReturnWithCoMensha";
        var without = await _mesh.Raw.CallAsync(method, [new Chain.Returns.V1.ShareReturnWithCoMenshaRequest { ReturnCaseId = "rc-1" }.ToByteArray()], _mesh.As("iom", "return"));
        var with = await _mesh.Raw.CallAsync(method, [new Chain.Returns.V1.ShareReturnWithCoMenshaRequest { ReturnCaseId = "rc-1", ConsentId = "consent-9" }.ToByteArray()], _mesh.As("iom", "return"));

        Assert.Equal((int)StatusCode.PermissionDenied, without.Status);
        Assert.Contains("consent_id", without.Message);
        Assert.Equal((int)StatusCode.OK, with.Status);
        Assert.Single(_mesh.Upstream.Calls);
        Assert.Equal("return_case_id:rc-1", (await _mesh.DecisionsAsync()).Last().SubjectPseudonym);
    }

    [Fact]
    public async Task Trusted_headers_come_from_the_decision_and_the_token_stays_at_the_gateway()
    {
        var metadata = _mesh.As("ind", "residence");
        metadata["x-chain-grant-id"] = "forged";
        metadata["x-chain-purpose"] = "criminal_investigation";
        metadata["x-correlation"] = "kept";
        metadata["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var result = await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [new Chain.Registry.V1.GetRegistrationRequest { RegistrationId = "reg-7" }.ToByteArray()], metadata);

        Assert.Equal((int)StatusCode.OK, result.Status);
        var (_, headers) = Assert.Single(_mesh.Upstream.Calls);
        // What the service believes is the transaction token alone: the decision's facts, signed by the gateway.
        var validator = new TransactionTokenValidator(_mesh.Gateway, AuthorityHttp.For(_mesh.Gateway), TimeProvider.System);
        var verdict = await validator.ValidateAsync(headers[TransactionTokens.Header].ToString(), "/chain.registry.v1.VictimRegistry/GetRegistration", CancellationToken.None);
        Assert.Equal(new TransactionContext("ind", "residence", "ind-residence", "registration_id:reg-7", "0af7651916cd43dd8448eb211c80319c"), verdict.Context);
        Assert.DoesNotContain(headers.Keys, name => name.StartsWith("x-chain-", StringComparison.Ordinal));
        Assert.Equal("kept", headers["x-correlation"]);
        Assert.False(headers.ContainsKey("authorization"));
        Assert.False(headers.ContainsKey("x-purpose"));
        Assert.StartsWith("00-0af7651916cd43dd8448eb211c80319c-", headers["traceparent"].ToString());
        Assert.NotEqual("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", headers["traceparent"].ToString());
        var decision = (await _mesh.DecisionsAsync()).Last();
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", decision.TraceId);
        Assert.Equal("registration_id:reg-7", decision.SubjectPseudonym);
    }
}
