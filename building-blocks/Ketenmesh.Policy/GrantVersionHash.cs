using System.Security.Cryptography;
using Chain.Policy.V1;
using Google.Protobuf;

namespace Ketenmesh.Policy;

/// <summary>
/// A grant version's identity: SHA-256 of its protobuf encoding. The encoding is canonical for
/// Grant because it has no map fields (the only source of ordering freedom in C#'s serializer,
/// which writes fields in number order), so equal grants always hash alike.
/// </summary>
public static class GrantVersionHash
{
    public static string Compute(Grant grant) =>
        Convert.ToHexStringLower(SHA256.HashData(grant.ToByteArray()));
}
