using Chain.Common.V1;
using Chain.Signals.V1;
using Grpc.Core;
using Ketenmesh.Security;
using Ketenmesh.Testing;
using static Ketenmesh.Signals.Tests.SignalsHost;

namespace Ketenmesh.Signals.Tests;

/// <summary>
/// EMM reads the signals police and the inspectorate pass on to it, read back from the service's own database
/// (the gateway's EmmAccessTests cover the grant, on the embedded mesh only). Source: seeds/002…txt L259–261:
/// "De politie en de Inspectie SZW geven de signalen door aan het landelijke meldpunt van het Expertisecentrum
/// Mensenhandel en Mensensmokkel (EMM)."
/// </summary>
public abstract class EmmReadingTests(SignalsDatabase database) : IAsyncLifetime
{
    private SignalsHost _host = null!;

    public async Task InitializeAsync() => _host = await StartAsync(await database.SettingsAsync());

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await database.DisposeAsync();
    }

    private async Task<string> SubmitAsync(string partner, SignalObservation observation) =>
        (await _host.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = $"emm-{partner}", Observation = observation }, As(partner))).Signal.SignalId;

    /// <summary>As the gateway vouches for EMM under one of its grants: the purpose travels in the transaction token.</summary>
    private Task<GetSignalResponse> ReadAsEmmAsync(string signalId, string purpose) =>
        _host.Channel.Intake().GetSignalAsync(new GetSignalRequest { SignalId = signalId }, new CallOptions(new Metadata
        {
            { TransactionTokens.Header, TestGateway.Shared.Mint("/chain.signals.v1.SignalIntake/GetSignal", "emm", purpose) },
        })).ResponseAsync;

    [Fact]
    public async Task EMM_reads_what_police_and_the_inspectorate_submitted_for_criminal_investigation_and_nothing_else()
    {
        var police = await SubmitAsync("police", Observations.PoliceCheck());
        var inspectorate = await SubmitAsync("inspectorate", Observations.LabourInspection());
        var fromMunicipality = Observations.PoliceCheck();
        fromMunicipality.Channel = SignalChannel.LocalReportingPoint;
        var municipality = await SubmitAsync("municipality", fromMunicipality);

        var readPolice = (await ReadAsEmmAsync(police, "criminal_investigation")).Signal;
        var readInspectorate = (await ReadAsEmmAsync(inspectorate, "criminal_investigation")).Signal;
        var notPassedOn = await Assert.ThrowsAsync<RpcException>(() => ReadAsEmmAsync(municipality, "criminal_investigation"));
        var otherPurpose = await Assert.ThrowsAsync<RpcException>(() => ReadAsEmmAsync(police, "signalling"));

        Assert.Equal((police, PartnerType.Police, "GM0363"), (readPolice.SignalId, readPolice.ReporterPartner, readPolice.Observation.Municipality.Code));
        Assert.Equal((inspectorate, PartnerType.Inspectorate, FormOfExploitation.Labour), (readInspectorate.SignalId, readInspectorate.ReporterPartner, readInspectorate.Observation.SuspectedForm));
        // Not passed on to EMM, or read for another purpose: the answer a signal that does not exist gets.
        Assert.Equal(StatusCode.NotFound, notPassedOn.StatusCode);
        Assert.Equal(StatusCode.NotFound, otherPurpose.StatusCode);
        Assert.Equal(notPassedOn.Status.Detail.Replace(municipality, "", StringComparison.Ordinal), otherPurpose.Status.Detail.Replace(police, "", StringComparison.Ordinal));
    }
}

public sealed class EmmReadingOnSqliteTests() : EmmReadingTests(new SignalsDatabase.Sqlite());

public sealed class EmmReadingOnPostgresTests() : EmmReadingTests(new SignalsDatabase.Postgres());
