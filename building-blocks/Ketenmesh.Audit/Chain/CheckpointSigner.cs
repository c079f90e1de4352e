using System.Buffers.Binary;
using System.Security.Cryptography;
using Ketenmesh.Persistence;

namespace Ketenmesh.Audit.Chain;

/// <summary>
/// Signs checkpoints (sequence and head hash) with an ECDSA P-256 key kept in a file outside the
/// database, made at first run (owner-only), never committed. Someone who can rewrite the database
/// but not read this file cannot forge a checkpoint, so cutting or rewriting history shows.
/// </summary>
public sealed class CheckpointSigner : IDisposable
{
    private readonly ECDsa _key;

    private CheckpointSigner(ECDsa key)
    {
        _key = key;
        KeyId = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
    }

    public string KeyId { get; }

    public static CheckpointSigner OpenOrCreate(string path)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(File.ReadAllText(path)), out _);
            return new CheckpointSigner(key);
        }
        OwnerOnlyFile.WriteText(path, Convert.ToBase64String(key.ExportPkcs8PrivateKey()));
        return new CheckpointSigner(key);
    }

    public byte[] Sign(long sequence, byte[] hash) => _key.SignData(Payload(sequence, hash), HashAlgorithmName.SHA256);

    public bool Verify(long sequence, byte[] hash, byte[] signature) => _key.VerifyData(Payload(sequence, hash), signature, HashAlgorithmName.SHA256);

    private static byte[] Payload(long sequence, byte[] hash)
    {
        var payload = new byte[8 + hash.Length];
        BinaryPrimitives.WriteInt64BigEndian(payload, sequence);
        hash.CopyTo(payload, 8);
        return payload;
    }

    public void Dispose() => _key.Dispose();
}
