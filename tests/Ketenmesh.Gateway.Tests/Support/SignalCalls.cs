using Chain.Common.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Ketenmesh.Grpc.Client;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>Signal intake's methods and a plausible signal, for calls through the gateway.</summary>
static class SignalCalls
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Service =
        SignalsReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("SignalIntake");

    public static readonly Method<SubmitSignalRequest, SubmitSignalResponse> Submit = Method<SubmitSignalRequest, SubmitSignalResponse>.From(Service.FindMethodByName("SubmitSignal"));
    public static readonly Method<GetSignalRequest, GetSignalResponse> Get = Method<GetSignalRequest, GetSignalResponse>.From(Service.FindMethodByName("GetSignal"));
    public static readonly Method<WatchMySignalsRequest, WatchMySignalsResponse> Watch = Method<WatchMySignalsRequest, WatchMySignalsResponse>.From(Service.FindMethodByName("WatchMySignals"));
    public static readonly Method<SubmitSignalBatchRequest, SubmitSignalBatchResponse> Batch = Method<SubmitSignalBatchRequest, SubmitSignalBatchResponse>.From(Service.FindMethodByName("SubmitSignalBatch"));

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
