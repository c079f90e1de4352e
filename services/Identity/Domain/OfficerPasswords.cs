using System.Security.Cryptography;
using System.Text;
using Ketenmesh.Persistence;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Domain;

/// <summary>
/// The passwords of the people who sign in at the login page in the local profile, the seeded privacy officers
/// and the Rapporteur's researchers: made at first run into the data directory (<c>officers/{officer}.password</c>,
/// <c>researchers/{researcher}.password</c>, owner-only), never committed, compared by hash in constant time.
/// </summary>
public static class OfficerPasswords
{
    static string? FolderOf(string account) =>
        PrivacyOfficers.IsOfficer(account) ? "officers" : RapporteurResearchers.IsResearcher(account) ? "researchers" : null;

    /// <summary>Every account the login page knows in the local profile: the officers, then the Rapporteur's researchers.</summary>
    public static IEnumerable<string> Accounts => PrivacyOfficers.Seeded.Concat(RapporteurResearchers.Seeded);

    /// <summary>Where an account's password is kept.</summary>
    public static string PathOf(string dataDirectory, string account) =>
        Path.Combine(dataDirectory, FolderOf(account) ?? throw new ArgumentException($"'{account}' is not a seeded privacy officer or researcher.", nameof(account)), $"{account}.password");

    public static string LoadOrCreate(string dataDirectory, string officerId)
    {
        var path = PathOf(dataDirectory, officerId);
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        var password = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(18));
        OwnerOnlyFile.WriteText(path, password);
        return password;
    }

    /// <summary>True when <paramref name="password"/> is the account's; an unknown account costs the same comparison.</summary>
    public static bool Verify(string dataDirectory, string officerId, string password)
    {
        var folder = FolderOf(officerId);
        var path = Path.Combine(dataDirectory, folder ?? "officers", $"{officerId}.password");
        var known = folder is not null && File.Exists(path);
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(known ? File.ReadAllText(path).Trim() : Guid.NewGuid().ToString()));
        return CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(password))) && known;
    }
}
