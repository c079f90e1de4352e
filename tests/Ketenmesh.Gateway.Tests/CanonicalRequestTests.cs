using Chain.Registry.V1;
using Chain.Returns.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Audit;
using Ketenmesh.Audit.Reading;
using Ketenmesh.Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// The gateway decides on the request as protobuf parses it, and forwards exactly that (issue 11, finding 1):
/// a partner cannot show the audit and the preconditions one value and the service another.
/// </summary>
public sealed class CanonicalRequestTests : IAsyncLifetime
{
    private const string ShareReturn = "chain.returns.v1.ReturnCoordination/ShareReturnWithCoMensha";
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private Dictionary<string, string> As(string partner, string purpose, string testCase)
    {
        var metadata = _mesh.As(partner, purpose);
        metadata["x-test-case"] = testCase;
        return metadata;
    }

    private async Task<byte[]> ServiceReadAsync(string testCase) =>
        Assert.Single(await _mesh.Upstream.Received[testCase].Messages.WaitAsync(TimeSpan.FromSeconds(10)));

    [Fact]
    public async Task A_decoy_registration_id_before_the_real_one_is_audited_as_the_one_the_service_reads()
    {
        var request = new WireBytes().StringField(1, "reg-decoy").StringField(1, "reg-victim").ToArray();

        var result = await _mesh.Raw.CallAsync(Attacks.GetRegistration, [request], As("care", "victim_care", "decoy"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        var read = GetRegistrationRequest.Parser.ParseFrom(await ServiceReadAsync("decoy"));
        Assert.Equal("reg-victim", read.RegistrationId);
        var entry = (await _mesh.DecisionsAsync()).Last();
        Assert.Equal(AuditDecision.Allowed, entry.Decision);
        Assert.Equal("registration_id:reg-victim", entry.SubjectPseudonym);
        // The victim's data-subject access report shows the read; the decoy's shows nothing.
        await using var scope = _mesh.Services.CreateAsyncScope();
        var reader = scope.ServiceProvider.GetRequiredService<AuditReader>();
        Assert.Single((await reader.SubjectAccessReportAsync("registration_id:reg-victim")).Accesses);
        Assert.Empty((await reader.SubjectAccessReportAsync("registration_id:reg-decoy")).Accesses);
    }

    [Fact]
    public async Task A_consent_id_sent_as_x_then_empty_is_refused_because_the_service_would_read_it_empty()
    {
        var request = new WireBytes().StringField(1, "rc-1").StringField(2, "x").StringField(2, "").ToArray();

        var result = await _mesh.Raw.CallAsync(ShareReturn, [request], As("iom", "return", "consent-emptied"));

        var entry = await _mesh.AssertRefusedAsync(result, StatusCode.PermissionDenied, ShareReturn);
        Assert.Contains("consent_id", entry.Reason);
        Assert.Equal("return_case_id:rc-1", entry.SubjectPseudonym);
    }

    [Fact]
    public async Task A_consent_id_sent_with_another_wire_type_is_no_consent_id()
    {
        // consent_id (2) is a string; as a varint it is an unknown field to protobuf, and the service has no consent id.
        var request = new WireBytes().StringField(1, "rc-1").VarintField(2, 1).ToArray();

        var result = await _mesh.Raw.CallAsync(ShareReturn, [request], As("iom", "return", "consent-varint"));

        var entry = await _mesh.AssertRefusedAsync(result, StatusCode.PermissionDenied, ShareReturn);
        Assert.Contains("consent_id", entry.Reason);
    }

    [Fact]
    public async Task A_consent_id_that_is_set_last_passes_and_reaches_the_service_as_checked()
    {
        var request = new WireBytes().StringField(2, "").StringField(1, "rc-1").StringField(2, "consent-7").ToArray();

        var result = await _mesh.Raw.CallAsync(ShareReturn, [request], As("iom", "return", "consent-last"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        var read = await ServiceReadAsync("consent-last");
        Assert.Equal(new ShareReturnWithCoMenshaRequest { ReturnCaseId = "rc-1", ConsentId = "consent-7" }.ToByteArray(), read);
    }

    [Fact]
    public async Task A_request_that_is_no_message_of_the_methods_type_is_invalid_argument_on_record_and_not_forwarded()
    {
        // A length prefix that runs past the end of the message.
        var request = new WireBytes().Tag(1, WireBytes.LengthDelimited).RawVarint(40).Raw(0x61, 0x62).ToArray();

        var result = await _mesh.Raw.CallAsync(Attacks.GetRegistration, [request], As("care", "victim_care", "truncated"));

        var entry = await _mesh.AssertRefusedAsync(result, StatusCode.InvalidArgument, Attacks.GetRegistration);
        Assert.Null(entry.SubjectPseudonym);
        Assert.DoesNotContain("truncated", _mesh.Upstream.Received.Keys);
    }

    [Fact]
    public async Task Fields_the_contract_does_not_know_are_dropped_before_the_service()
    {
        var request = new WireBytes().StringField(1, "reg-1").VarintField(SampleMessages.UnknownFieldNumber, 1).StringField(1999_9, "smuggled").ToArray();

        var result = await _mesh.Raw.CallAsync(Attacks.GetRegistration, [request], As("care", "victim_care", "unknown"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        Assert.Equal(new GetRegistrationRequest { RegistrationId = "reg-1" }.ToByteArray(), await ServiceReadAsync("unknown"));
    }

    [Fact]
    public async Task A_gzip_request_reaches_the_service_uncompressed_as_it_was_checked()
    {
        var request = new WireBytes().StringField(1, "reg-decoy").StringField(1, "reg-2").ToArray();

        var result = await _mesh.Raw.CallAsync(Attacks.GetRegistration, [request], As("care", "victim_care", "gzip"), encoding: RequestEncoding.Gzip);

        Assert.Equal((int)StatusCode.OK, result.Status);
        var received = _mesh.Upstream.Received["gzip"];
        Assert.Equal(new GetRegistrationRequest { RegistrationId = "reg-2" }.ToByteArray(), Assert.Single(await received.Messages.WaitAsync(TimeSpan.FromSeconds(10))));
        Assert.False(received.AnyCompressed);
        Assert.Equal("registration_id:reg-2", (await _mesh.DecisionsAsync()).Last().SubjectPseudonym);
    }

    [Fact]
    public async Task Each_message_of_a_client_stream_reaches_the_service_as_protobuf_parses_it()
    {
        var first = new WireBytes().StringField(1, "item-decoy").StringField(1, "item-1")
            .MessageField(2, new WireBytes().VarintField(1, 2)).MessageField(2, new WireBytes().StringField(11, "second part")).ToArray();
        var second = new WireBytes().StringField(1, "item-2").VarintField(SampleMessages.UnknownFieldNumber, 9).ToArray();

        var result = await _mesh.Raw.CallAsync(Attacks.SubmitSignalBatch, [first, second], As("police", "signalling", "batch"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        var read = await _mesh.Upstream.Received["batch"].Messages.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(
            [SubmitSignalBatchRequest.Parser.WithDiscardUnknownFields(true).ParseFrom(first).ToByteArray(), new SubmitSignalBatchRequest { ClientRequestId = "item-2" }.ToByteArray()],
            read);
        // The embedded observation arrived in two parts and reached the service merged.
        var item = SubmitSignalBatchRequest.Parser.ParseFrom(read[0]);
        Assert.Equal("item-1", item.ClientRequestId);
        Assert.Equal(2, (int)item.Observation.Channel);
        Assert.Equal("second part", item.Observation.FreeTextNote);
    }

    [Fact]
    public async Task A_client_stream_message_that_does_not_parse_cuts_the_stream_off_with_invalid_argument_on_record()
    {
        var good = new SubmitSignalBatchRequest { ClientRequestId = "item-1" }.ToByteArray();
        // Wire type 7 does not exist.
        var bad = new WireBytes().Tag(1, 7).ToArray();

        var result = await _mesh.Raw.CallAsync(Attacks.SubmitSignalBatch, [good, bad, good], As("police", "signalling", "batch-bad"));

        Assert.Equal((int)StatusCode.InvalidArgument, result.Status);
        var audit = await _mesh.AuditAsync();
        Assert.Equal(AuditDecision.Denied, audit.Last().Decision);
        Assert.StartsWith("InvalidArgument: ", audit.Last().Reason);
        if (_mesh.Upstream.Received.TryGetValue("batch-bad", out var received))
        {
            // What reached the service before the cut is the good message, never the bad one or any after it.
            var read = await received.Messages.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read.Count <= 1 && read.All(m => m.SequenceEqual(good)), $"{read.Count} messages reached the service");
        }
    }
}
