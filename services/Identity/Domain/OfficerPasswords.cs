using System.Security.Cryptography;
using System.Text;
using Ketenmesh.Persistence;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Domain;

/// <summary>
/// The seeded privacy officers' passwords in the local profile: made at first run into the data directory
/// (<c>officers/{officer}.password</c>, owner-only), never committed, compared by hash in constant time.
/// </summary>
public static class OfficerPasswords
{
    public static string LoadOrCreate(string dataDirectory, string officerId)
    {
        if (!PrivacyOfficers.IsOfficer(officerId))
        {
            throw new ArgumentException($"'{officerId}' is not a seeded privacy officer.", nameof(officerId));
        }

        var path = Path.Combine(dataDirectory, "officers", $"{officerId}.password");
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        var password = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(18));
        OwnerOnlyFile.WriteText(path, password);
        return password;
    }

    /// <summary>True when <paramref name="password"/> is the officer's; an unknown officer costs the same comparison.</summary>
    public static bool Verify(string dataDirectory, string officerId, string password)
    {
        var path = Path.Combine(dataDirectory, "officers", $"{officerId}.password");
        var known = PrivacyOfficers.IsOfficer(officerId) && File.Exists(path);
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(known ? File.ReadAllText(path).Trim() : Guid.NewGuid().ToString()));
        return CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(password))) && known;
    }
}
