using Grpc.Core;
using Ketenmesh.Testing;
using Chain.Common.V1;
using Chain.Registry.V1;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Ketenmesh.Registry.Tests;

/// <summary>Registrations and keys as partners would send them.</summary>
public static class RegistryTestData
{
    public static PersonLinkKey Key(LinkKeyKind kind = LinkKeyKind.TravelDocument) =>
        new() { Kind = kind, KeyedHash = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), KeyId = "chain-2026-1" };

    public static async Task<Registration> RegisterAsync(ChannelBase client, string requestId, PersonProfile? person = null, ExploitationProfile? exploitation = null,
        VictimStatus status = VictimStatus.Possible, params PersonLinkKey[] keys) =>
        (await client.Registry().RegisterVictimAsync(new RegisterVictimRequest
        {
            ClientRequestId = requestId,
            InitialStatus = status,
            Person = person,
            Exploitation = exploitation,
            LinkKeys = { keys.Length == 0 ? [Key()] : keys },
        }, RegistryHost.As("comensha"))).Registration;

    public static Date Day(DateOnly day) => Ketenmesh.Contracts.ChainDates.ToDate(day);
}
