using Ketenmesh.Persistence;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Security;

/// <summary>
/// The issuer's ES256 keys, generated at first run into the data directory (never committed). The
/// newest key signs; a key rotated out stays published in the JWKS until every token it signed has
/// expired, so validators that cache the JWKS never meet a token they cannot check.
/// </summary>
public sealed class SigningKeyStore
{
    readonly string _path;
    readonly TimeProvider _clock;
    readonly TimeSpan _maxTokenLifetime;
    readonly object _gate = new();
    List<StoredKey> _keys;
    SigningCredentials? _current;

    SigningKeyStore(string path, TimeProvider clock, TimeSpan maxTokenLifetime, List<StoredKey> keys)
    {
        _path = path;
        _clock = clock;
        _maxTokenLifetime = maxTokenLifetime;
        _keys = keys;
    }

    /// <summary>Loads the keys at <paramref name="path"/>, creating the file with a first key when it does not exist.</summary>
    public static SigningKeyStore OpenOrCreate(string path, TimeProvider clock, TimeSpan maxTokenLifetime)
    {
        var keys = File.Exists(path)
            ? JsonSerializer.Deserialize<List<StoredKey>>(File.ReadAllText(path)) ?? []
            : [];
        var store = new SigningKeyStore(path, clock, maxTokenLifetime, keys);
        if (keys.Count == 0)
        {
            store.Rotate();
        }

        return store;
    }

    /// <summary>What new tokens are signed with; parsed once per key, not once per token.</summary>
    public SigningCredentials Current
    {
        get
        {
            lock (_gate)
            {
                var key = _keys.Last(k => k.RetiredAt is null);
                if (_current?.Key.KeyId != key.KeyId)
                {
                    _current = new SigningCredentials(PrivateKey(key), SecurityAlgorithms.EcdsaSha256);
                }

                return _current;
            }
        }
    }

    /// <summary>The public halves of every key a valid token may still carry (the JWKS).</summary>
    public IReadOnlyList<JsonWebKey> Published
    {
        get
        {
            var now = _clock.GetUtcNow();
            lock (_gate)
            {
                return _keys
                    .Where(k => k.RetiredAt is null || k.RetiredAt.Value + _maxTokenLifetime > now)
                    .Select(PublicJwk)
                    .ToList();
            }
        }
    }

    /// <summary>The JWKS document (RFC 7517): the public halves only, as a JSON-ready object.</summary>
    public Dictionary<string, object> JwksDocument() => new()
    {
        ["keys"] = Published.Select(k => new Dictionary<string, string>
        {
            ["kty"] = k.Kty,
            ["crv"] = k.Crv,
            ["x"] = k.X,
            ["y"] = k.Y,
            ["kid"] = k.Kid,
            ["use"] = k.Use,
            ["alg"] = k.Alg,
        }).ToArray(),
    };

    /// <summary>Starts signing with a new key; the previous one stays published for one token lifetime.</summary>
    public string Rotate()
    {
        var now = _clock.GetUtcNow();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = new StoredKey(Guid.NewGuid().ToString("N"), Convert.ToBase64String(ecdsa.ExportPkcs8PrivateKey()), now, RetiredAt: null);
        lock (_gate)
        {
            var next = _keys
                .Where(k => k.RetiredAt is null || k.RetiredAt.Value + _maxTokenLifetime > now) // forget keys no token can carry
                .Select(k => k.RetiredAt is null ? k with { RetiredAt = now } : k)
                .Append(key)
                .ToList();
            Save(next);
            _keys = next;
        }

        return key.KeyId;
    }

    void Save(List<StoredKey> keys)
    {
        OwnerOnlyFile.Write(_path, JsonSerializer.SerializeToUtf8Bytes(keys));
    }

    static ECDsaSecurityKey PrivateKey(StoredKey key)
    {
        var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(Convert.FromBase64String(key.Pkcs8), out _);
        return new ECDsaSecurityKey(ecdsa) { KeyId = key.KeyId };
    }

    static JsonWebKey PublicJwk(StoredKey key)
    {
        using var full = ECDsa.Create();
        full.ImportPkcs8PrivateKey(Convert.FromBase64String(key.Pkcs8), out _);
        // Only Q (x, y) leaves the store; exporting from the private key would put d in the JWKS.
        var publicOnly = ECDsa.Create(full.ExportParameters(includePrivateParameters: false));
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(publicOnly) { KeyId = key.KeyId });
        jwk.Use = JsonWebKeyUseNames.Sig;
        jwk.Alg = SecurityAlgorithms.EcdsaSha256;
        return jwk;
    }

    sealed record StoredKey(string KeyId, string Pkcs8, DateTimeOffset ActiveFrom, DateTimeOffset? RetiredAt);
}
