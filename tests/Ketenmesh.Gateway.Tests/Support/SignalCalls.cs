using Chain.Common.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>Signal intake's methods and a plausible signal, for calls through the gateway.</summary>
static class SignalCalls
{


    public static SubmitSignalRequest Request(string? clientRequestId = null) => new()
    {
        ClientRequestId = clientRequestId ?? Guid.NewGuid().ToString(),
        Observation = new SignalObservation
        {
            Channel = SignalChannel.Police,
            ReporterType = ReporterType.Professional,
            ObservedIndicators = { Indicator.IntegrityThreatsOrViolence, Indicator.FreedomNoControlOfEarnings },
            SuspectedForm = FormOfExploitation.Sexual,
            Sector = Sector.SexIndustry,
            LocationType = LocationType.PrivateHome,
            ObservedOn = new Date { Year = 2026, Month = 11, Day = 2 },
            Municipality = new Municipality { Code = "GM0363", Name = "Amsterdam" },
            PersonLinkKeys = { new PersonLinkKey { Kind = LinkKeyKind.TravelDocument, KeyedHash = ByteString.CopyFrom(new byte[32]), KeyId = "chain-2026-1" } },
            FreeTextNote = "Meldt zich met verwondingen; werkgever houdt paspoort vast.",
        },
    };
}
