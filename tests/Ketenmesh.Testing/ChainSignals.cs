using Chain.Common.V1;
using Chain.Signals.V1;
using Google.Protobuf;

namespace Ketenmesh.Testing;

/// <summary>Signals for flow tests and benchmarks, each about a person chosen by number.</summary>
public static class ChainSignals
{
    /// <summary>A labour inspection worth 14 + 10 points: a medium band, so the person is always registered.</summary>
    public static SubmitSignalRequest LabourInspection(string requestId, int person) => new()
    {
        ClientRequestId = requestId,
        Observation = new SignalObservation
        {
            Channel = SignalChannel.Inspectorate,
            ReporterType = ReporterType.Professional,
            ObservedIndicators = { Indicator.LabourDocumentsConfiscated, Indicator.LabourTravelDebt },
            SuspectedForm = FormOfExploitation.Labour,
            Sector = Sector.AgricultureHorticulture,
            ObservedOn = new Date { Year = 2026, Month = 11, Day = 3 },
            Municipality = new Municipality { Code = "GM0599", Name = "Rotterdam" },
            PersonLinkKeys = { Person(person) },
        },
    };

    /// <summary>The pseudonymous key of person number <paramref name="person"/>.</summary>
    public static PersonLinkKey Person(int person)
    {
        var hash = new byte[32];
        BitConverter.GetBytes(person).CopyTo(hash, 0);
        return new PersonLinkKey { Kind = LinkKeyKind.TravelDocument, KeyedHash = ByteString.CopyFrom(hash), KeyId = "chain-2026-1" };
    }
}
