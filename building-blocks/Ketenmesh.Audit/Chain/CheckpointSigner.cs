using System.Buffers.Binary;
using System.Security.Cryptography;
using Ketenmesh.Persistence;

namespace Ketenmesh.Audit.Chain;

/// <summary>Which of the log's keys sealed a record.</summary>
public enum SealedBy
{
    None,
    CurrentKey,
    RetiredKey,
}

/// <summary>How a checkpoint's signature fares against the log's keys.</summary>
public enum CheckpointSignature
{
    /// <summary>It verifies with the key it names: the current one or a retired one.</summary>
    Verifies,

    /// <summary>The key it names is held, and the signature does not verify with it: forged or altered.</summary>
    DoesNotVerify,

    /// <summary>It names a key this log holds neither as current nor as retired: it cannot be checked here.</summary>
    UnknownKey,
}

/// <summary>
/// Signs checkpoints (sequence and head hash) with an ECDSA P-256 key kept in a file outside the
/// database, made at first run (owner-only), never committed. Someone who can rewrite the database
/// but not read this file cannot forge a checkpoint, so cutting or rewriting history shows.
/// </summary>
/// <remarks>
/// Keys are rotated (<see cref="Rotate"/>), not replaced: the public half of every retired key stays in a directory
/// beside the key file (<c>&lt;key file&gt;.retired/&lt;key id&gt;.pub</c>), so checkpoints signed before a rotation
/// still verify, and one that names a key the log does not hold is told apart from one that was forged.
/// </remarks>
public sealed class CheckpointSigner : IDisposable
{
    private const string RetiredSuffix = ".retired";
    private const string PublicKeyExtension = ".pub";
    private const string SealKeyExtension = ".seal";

    private readonly ECDsa _key;
    private readonly IReadOnlyDictionary<string, ECDsa> _retired;
    private readonly byte[] _sealKey;
    private readonly IReadOnlyList<byte[]> _retiredSealKeys;

    private CheckpointSigner(ECDsa key, IReadOnlyDictionary<string, ECDsa> retired, IReadOnlyList<byte[]> retiredSealKeys)
    {
        _key = key;
        _retired = retired;
        _retiredSealKeys = retiredSealKeys;
        KeyId = IdOf(key);
        _sealKey = SealKeyOf(key);
    }

    // From the same secret as the signatures (its private scalar, not an encoding of it that a platform might vary), so
    // that gateways sharing the key file share it, and nothing new is kept.
    private static byte[] SealKeyOf(ECDsa key) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, key.ExportParameters(includePrivateParameters: true).D!, 32, info: "ketenmesh audit record seal v1"u8.ToArray());

    public string KeyId { get; }

    /// <summary>The ids of the retired keys whose checkpoints still verify.</summary>
    public IReadOnlyCollection<string> RetiredKeyIds => _retired.Keys.ToList();

    public static CheckpointSigner OpenOrCreate(string path)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(File.ReadAllText(path)), out _);
        }
        else
        {
            OwnerOnlyFile.WriteText(path, Convert.ToBase64String(key.ExportPkcs8PrivateKey()));
        }
        return new CheckpointSigner(key, LoadRetired(path), LoadRetiredSealKeys(path));
    }

    /// <summary>
    /// Retires the key in <paramref name="path"/> (its public half kept beside it) and puts a new one in its place;
    /// returns both ids. A running gateway signs with the new key from its next start.
    /// </summary>
    public static (string Retired, string Current) Rotate(string path)
    {
        using var old = OpenOrCreate(path);
        var retired = RetiredPath(path, old.KeyId);
        Directory.CreateDirectory(Path.GetDirectoryName(retired)!);
        // Kept first: were the new key written and this not, the old checkpoints would be unverifiable.
        File.WriteAllText(retired, Convert.ToBase64String(old._key.ExportSubjectPublicKeyInfo()));
        // Its seal key too, owner-only (a secret, unlike the public half): records sealed before the rotation and not yet
        // under a checkpoint must still be told from records someone else wrote.
        OwnerOnlyFile.WriteText(Path.ChangeExtension(retired, SealKeyExtension), Convert.ToBase64String(old._sealKey));
        using var next = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        OwnerOnlyFile.WriteText(path, Convert.ToBase64String(next.ExportPkcs8PrivateKey()));
        return (old.KeyId, IdOf(next));
    }

    /// <summary>The public half of the current key and of every retired one, as PEM, for an auditor's own check.</summary>
    public IEnumerable<(string KeyId, bool Current, string Pem)> PublicKeys() =>
        new[] { (KeyId, true, _key.ExportSubjectPublicKeyInfoPem()) }
            .Concat(_retired.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, false, r.Value.ExportSubjectPublicKeyInfoPem())));

    public byte[] Sign(long sequence, byte[] hash) => _key.SignData(Payload(sequence, hash), HashAlgorithmName.SHA256);

    /// <summary>
    /// The seal a gateway puts on each record it appends: an HMAC-SHA-256, under a key derived from the checkpoint key,
    /// over the record's sequence and chain hash, which covers every record before it. A record put into the database
    /// behind the gateways' backs has no valid seal, so no gateway links onto it or signs a checkpoint over it.
    /// </summary>
    public byte[] Seal(long sequence, byte[] hash) => HMACSHA256.HashData(_sealKey, Payload(sequence, hash));

    /// <summary>
    /// Whose seal <paramref name="seal"/> is on that record: the current key's, a retired key's, or none of this log's.
    /// A retired key's seal counts only before the current key's first checkpoint (<see cref="Storage.HeadTrust"/>):
    /// a seal key kept after a rotation must not seal anything new.
    /// </summary>
    public SealedBy SealOf(long sequence, byte[] hash, byte[]? seal)
    {
        if (seal is not { Length: 32 })
        {
            return SealedBy.None;
        }
        var payload = Payload(sequence, hash);
        if (CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_sealKey, payload), seal))
        {
            return SealedBy.CurrentKey;
        }
        return _retiredSealKeys.Any(key => CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(key, payload), seal)) ? SealedBy.RetiredKey : SealedBy.None;
    }

    /// <summary>Checks a checkpoint with the key it names, current or retired.</summary>
    public CheckpointSignature Check(string keyId, long sequence, byte[] hash, byte[] signature)
    {
        var key = keyId == KeyId ? _key : _retired.GetValueOrDefault(keyId);
        if (key is null)
        {
            return CheckpointSignature.UnknownKey;
        }
        return key.VerifyData(Payload(sequence, hash), signature, HashAlgorithmName.SHA256) ? CheckpointSignature.Verifies : CheckpointSignature.DoesNotVerify;
    }

    private static IReadOnlyDictionary<string, ECDsa> LoadRetired(string path)
    {
        var directory = path + RetiredSuffix;
        var retired = new Dictionary<string, ECDsa>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return retired;
        }
        foreach (var file in Directory.EnumerateFiles(directory, "*" + PublicKeyExtension))
        {
            var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(File.ReadAllText(file)), out _);
            // Named by the key itself, not by the file name: a file renamed to another key's id vouches for nothing.
            retired[IdOf(key)] = key;
        }
        return retired;
    }

    private static IReadOnlyList<byte[]> LoadRetiredSealKeys(string path)
    {
        var directory = path + RetiredSuffix;
        return Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*" + SealKeyExtension).Select(file => Convert.FromBase64String(File.ReadAllText(file))).ToList()
            : [];
    }

    private static string RetiredPath(string path, string keyId) => Path.Combine(path + RetiredSuffix, keyId + PublicKeyExtension);

    private static string IdOf(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];

    private static byte[] Payload(long sequence, byte[] hash)
    {
        var payload = new byte[8 + hash.Length];
        BinaryPrimitives.WriteInt64BigEndian(payload, sequence);
        hash.CopyTo(payload, 8);
        return payload;
    }

    public void Dispose()
    {
        _key.Dispose();
        foreach (var key in _retired.Values)
        {
            key.Dispose();
        }
    }
}
