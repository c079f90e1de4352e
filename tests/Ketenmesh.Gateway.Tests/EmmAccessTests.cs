using Chain.Common.V1;
using Chain.Signals.V1;
using Grpc.Core;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Testing;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// EMM, the police's expertise centre on trafficking and smuggling, as a partner of the mesh. Source:
/// seeds/002…txt L259–261: "De politie en de Inspectie SZW geven de signalen door aan het landelijke meldpunt
/// van het Expertisecentrum Mensenhandel en Mensensmokkel (EMM)."
/// </summary>
public sealed class EmmAccessTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync();

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private async Task<string> SubmitAsync(string partner, SignalChannel channel)
    {
        var request = SignalCalls.Request();
        request.Observation.Channel = channel;
        return (await _mesh.Channel.Intake().SubmitSignalAsync(request, GatewayMesh.Options(_mesh.As(partner, "signalling"))).ResponseAsync).Signal.SignalId;
    }

    private Task<GetSignalResponse> ReadAsEmmAsync(string signalId) =>
        _mesh.Channel.Intake().GetSignalAsync(new GetSignalRequest { SignalId = signalId }, GatewayMesh.Options(_mesh.As("emm", "criminal_investigation"))).ResponseAsync;

    [Fact]
    public async Task EMM_reads_police_and_inspectorate_signals_for_criminal_investigation_and_no_one_elses()
    {
        var police = await SubmitAsync("police", SignalChannel.Police);
        var inspectorate = await SubmitAsync("inspectorate", SignalChannel.Inspectorate);
        var municipality = await SubmitAsync("municipality", SignalChannel.LocalReportingPoint);

        var fromPolice = (await ReadAsEmmAsync(police)).Signal;
        var fromInspectorate = (await ReadAsEmmAsync(inspectorate)).Signal;
        var fromMunicipality = await Assert.ThrowsAsync<RpcException>(() => ReadAsEmmAsync(municipality));
        var submitting = await Assert.ThrowsAsync<RpcException>(() => _mesh.Channel.Intake().SubmitSignalAsync(SignalCalls.Request(),
            GatewayMesh.Options(_mesh.As("emm", "criminal_investigation"))).ResponseAsync);

        Assert.Equal(PartnerType.Police, fromPolice.ReporterPartner);
        Assert.Equal("GM0363", fromPolice.Observation.Municipality.Code);
        Assert.Equal(PartnerType.Inspectorate, fromInspectorate.ReporterPartner);
        // Not routed to EMM, so not there: the same answer as for a signal that does not exist.
        Assert.Equal(StatusCode.NotFound, fromMunicipality.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, submitting.StatusCode);
    }
}
