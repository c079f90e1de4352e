using Chain.Common.V1;
using Chain.Risk.V1;
using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Testing;

namespace Ketenmesh.Gateway.Tests;

/// <summary>The chain's flow through the gateway on the embedded mesh: a signal goes in, the bus carries it, and partners read the outcome within their grants.</summary>
public sealed class ChainFlowTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(withChainFlow: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private async Task<GetAssessmentResponse> AssessmentAsync(string signalId, string partner, string purpose)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return await _mesh.Channel.Risk().GetAssessmentAsync(new GetAssessmentRequest { SignalId = signalId }, GatewayMesh.Options(_mesh.As(partner, purpose))).ResponseAsync;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && DateTime.UtcNow < deadline)
            {
                await Task.Delay(25);
            }
        }
    }

    /// <summary>A partner's own signal through the gateway, once it satisfies <paramref name="until"/> (or after 10 s).</summary>
    private async Task<Chain.Signals.V1.Signal> SignalOnceAsync(string signalId, Func<Chain.Signals.V1.Signal, bool> until, string partner = "police")
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var signal = (await _mesh.Channel.Intake().GetSignalAsync(new Chain.Signals.V1.GetSignalRequest { SignalId = signalId },
                GatewayMesh.Options(_mesh.As(partner, "signalling"))).ResponseAsync).Signal;
            if (until(signal) || DateTime.UtcNow > deadline)
            {
                return signal;
            }
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task A_signal_is_assessed_and_each_partner_reads_the_assessment_its_grant_allows()
    {
        var request = SignalCalls.Request();
        var submitted = await _mesh.Channel.Intake().SubmitSignalAsync(request, GatewayMesh.Options(_mesh.As("police", "signalling"))).ResponseAsync;
        var signalId = submitted.Signal.SignalId;

        var police = await AssessmentAsync(signalId, "police", "criminal_investigation");
        var municipality = await AssessmentAsync(signalId, "municipality", "administrative_enforcement");
        var explained = await _mesh.Channel.Risk().ExplainAssessmentAsync(new ExplainAssessmentRequest { AssessmentId = police.Assessment.AssessmentId },
            GatewayMesh.Options(_mesh.As("police", "criminal_investigation"))).ResponseAsync;
        var care = await Assert.ThrowsAsync<RpcException>(() =>
            _mesh.Channel.Risk().GetAssessmentAsync(new GetAssessmentRequest { SignalId = signalId }, GatewayMesh.Options(_mesh.As("care", "victim_care"))).ResponseAsync);

        // Threats make it acute danger: critical whatever the score.
        Assert.Equal(RiskBand.Critical, police.Assessment.Band);
        Assert.Contains(EscalationFlag.AcuteDanger, police.Assessment.EscalationFlags);
        Assert.Equal("2026.3", police.Assessment.RuleSetVersion);
        Assert.True(police.Assessment.Score > 0);
        Assert.Equal(["MUN-113", "MUN-131"], explained.Contributions.Select(c => c.RuleId).Order());
        // The municipality sees where the case goes, not how it was scored.
        Assert.Equal(police.Assessment.Band, municipality.Assessment.Band);
        Assert.Equal(police.Assessment.RecommendedTrack, municipality.Assessment.RecommendedTrack);
        Assert.Equal(0, municipality.Assessment.Score);
        Assert.Empty(municipality.Assessment.RuleSetVersion);
        Assert.Empty(municipality.Assessment.EscalationFlags);
        Assert.Equal(StatusCode.PermissionDenied, care.StatusCode);
    }

    [Fact]
    public async Task The_signaller_hears_back_that_its_signal_was_assessed_and_where_it_goes()
    {
        var submitted = await _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request(), GatewayMesh.Options(_mesh.As("police", "signalling"))).ResponseAsync;
        var assessment = await AssessmentAsync(submitted.Signal.SignalId, "police", "criminal_investigation");

        var signal = await SignalOnceAsync(submitted.Signal.SignalId, s => s.Outcome?.Track is not (null or Track.Unspecified));

        // Assessed, and perhaps registered already: the status only moves forward.
        Assert.True(signal.Status >= Chain.Signals.V1.SignalStatus.Assessed, signal.Status.ToString());
        Assert.Equal(assessment.Assessment.RecommendedTrack, signal.Outcome.Track);
    }

    [Fact]
    public async Task Two_signals_about_one_person_become_one_registration_and_both_signallers_hear_it()
    {
        var person = new PersonLinkKey { Kind = LinkKeyKind.TravelDocument, KeyedHash = Google.Protobuf.ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), KeyId = "chain-2026-1" };
        var first = SignalCalls.Request();
        first.Observation.PersonLinkKeys.Clear();
        first.Observation.PersonLinkKeys.Add(person);
        var second = SignalCalls.Request();
        second.Observation.Channel = Chain.Signals.V1.SignalChannel.Inspectorate;
        second.Observation.PersonLinkKeys.Clear();
        second.Observation.PersonLinkKeys.Add(person);

        var police = await _mesh.Channel.Intake().SubmitSignalAsync(first, GatewayMesh.Options(_mesh.As("police", "signalling"))).ResponseAsync;
        var policeSignal = await SignalOnceAsync(police.Signal.SignalId, s => s.Status == Chain.Signals.V1.SignalStatus.Registered);
        var inspection = await _mesh.Channel.Intake().SubmitSignalAsync(second, GatewayMesh.Options(_mesh.As("inspectorate", "signalling"))).ResponseAsync;
        var inspectionSignal = await SignalOnceAsync(inspection.Signal.SignalId, s => s.Status == Chain.Signals.V1.SignalStatus.Registered, "inspectorate");
        var registrationId = policeSignal.Outcome.RegistrationId;
        var comensha = (await _mesh.Channel.Registry().GetRegistrationAsync(new Chain.Registry.V1.GetRegistrationRequest { RegistrationId = registrationId },
            GatewayMesh.Options(_mesh.As("comensha", "victim_care"))).ResponseAsync).Registration;
        var care = (await _mesh.Channel.Registry().GetRegistrationAsync(new Chain.Registry.V1.GetRegistrationRequest { RegistrationId = registrationId },
            GatewayMesh.Options(_mesh.As("care", "victim_care"))).ResponseAsync).Registration;

        Assert.Equal(Chain.Signals.V1.SignalStatus.Registered, policeSignal.Status);
        Assert.NotEmpty(registrationId);
        Assert.Equal(registrationId, inspectionSignal.Outcome.RegistrationId);
        Assert.Equal(new[] { police.Signal.SignalId, inspection.Signal.SignalId }.Order(StringComparer.Ordinal), comensha.LinkedRecords.Select(r => r.RecordId).Order(StringComparer.Ordinal));
        Assert.Equal(Chain.Registry.V1.VictimStatus.Possible, comensha.Status);
        Assert.Single(comensha.LinkKeys);
        // Care partners see care-relevant fields, not who reported or the link keys.
        Assert.Equal(registrationId, care.RegistrationId);
        Assert.Empty(care.LinkKeys);
        Assert.Empty(care.LinkedRecords);
    }
}
