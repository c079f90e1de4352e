using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Ketenmesh.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Domain;

/// <summary>What a person who signs in at the login page may ask for.</summary>
public enum AccountKind
{
    /// <summary>A privacy officer: the policy administration (scope <c>policy_admin</c>).</summary>
    Officer,

    /// <summary>A researcher of the National Rapporteur: the statistics (scope <c>statistics</c>).</summary>
    Researcher,
}

/// <summary>
/// The accounts of the people who sign in at the login page, the privacy officers and the Rapporteur's researchers, kept
/// in the identity's data directory: an account is its password file (<c>officers/{name}.password</c> or
/// <c>researchers/{name}.password</c>, owner-only, never committed). The seeded accounts are made once, at first run
/// (<see cref="SeedOnce"/>), and their file keeps the generated password so that <c>./mesh up</c> can show it; an
/// operator adds and removes the others with <c>Ketenmesh.Identity account</c> (AccountCommand), and their file keeps
/// only a salted hash (ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/>), the password being shown once. A
/// removed account, seeded or not, stays removed.
/// </summary>
public static partial class OfficerPasswords
{
    const string Seeded = "accounts.seeded";

    /// <summary>What an added account's file starts with: the rest is a hash, never a password.</summary>
    const string HashPrefix = "hash:";

    static readonly PasswordHasher<string> Hasher = new();

    /// <summary>What a password that is not kept as a hash is checked against too, so every sign-in costs one hash.</summary>
    static readonly Lazy<string> Decoy = new(() => Hasher.HashPassword("decoy", Guid.NewGuid().ToString()));

    static string FolderOf(AccountKind kind) => kind == AccountKind.Officer ? "officers" : "researchers";

    /// <summary>The one file an account is.</summary>
    static string FileOf(string dataDirectory, AccountKind kind, string account) => Path.Combine(dataDirectory, FolderOf(kind), $"{account}.password");

    /// <summary>The seeded accounts: the officers, then the Rapporteur's researchers.</summary>
    public static IEnumerable<string> Accounts => PrivacyOfficers.Seeded.Concat(RapporteurResearchers.Seeded);

    /// <summary>A name an account may have: lower case letters, digits, '.', '_' and '-', as in a token's subject and a file's name.</summary>
    public static bool IsName(string account) => AccountName().IsMatch(account);

    public static bool IsOfficer(string dataDirectory, string account) => Exists(dataDirectory, AccountKind.Officer, account);

    public static bool IsResearcher(string dataDirectory, string account) => Exists(dataDirectory, AccountKind.Researcher, account);

    static bool Exists(string dataDirectory, AccountKind kind, string account) =>
        IsName(account) && File.Exists(FileOf(dataDirectory, kind, account));

    static AccountKind? KindOf(string dataDirectory, string account) =>
        PrivacyOfficers.IsOfficer(account) || IsOfficer(dataDirectory, account) ? AccountKind.Officer
        : RapporteurResearchers.IsResearcher(account) || IsResearcher(dataDirectory, account) ? AccountKind.Researcher
        : null;

    /// <summary>Where an account's password is kept.</summary>
    public static string PathOf(string dataDirectory, string account) =>
        FileOf(dataDirectory, KindOf(dataDirectory, account) ?? throw new ArgumentException($"'{account}' is no account of an officer or researcher.", nameof(account)), account);

    public static string LoadOrCreate(string dataDirectory, string officerId)
    {
        var path = PathOf(dataDirectory, officerId);
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        return Create(path);
    }

    static string Create(string path)
    {
        var password = NewPassword();
        OwnerOnlyFile.WriteText(path, password);
        return password;
    }

    static string NewPassword() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(18));

    /// <summary>What an account's file holds (a password, or <see cref="HashPrefix"/> and a hash); null for no account.</summary>
    static string? Stored(string dataDirectory, string account) =>
        IsName(account) && Enum.GetValues<AccountKind>().Select(kind => FileOf(dataDirectory, kind, account)).FirstOrDefault(File.Exists) is { } path
            ? File.ReadAllText(path).Trim()
            : null;

    /// <summary>Makes the seeded accounts the first time only, so one an operator removed is not made again at the next start.</summary>
    public static void SeedOnce(string dataDirectory)
    {
        var marker = Path.Combine(dataDirectory, Seeded);
        if (File.Exists(marker))
        {
            return;
        }

        foreach (var account in Accounts)
        {
            LoadOrCreate(dataDirectory, account);
        }

        OwnerOnlyFile.WriteText(marker, "The seeded officers' and researchers' accounts were made; removed ones are not made again.");
    }

    /// <summary>A seeded account an operator removed after it was made (a script's token for it is refused too).</summary>
    public static bool WasRemoved(string dataDirectory, string account) =>
        File.Exists(Path.Combine(dataDirectory, Seeded)) && KindOf(dataDirectory, account) is { } kind && !Exists(dataDirectory, kind, account);

    /// <summary>Adds an account with a generated password, returned to be shown once; null when the name is taken.</summary>
    public static string? Add(string dataDirectory, AccountKind kind, string account)
    {
        if (!IsName(account))
        {
            throw new ArgumentException($"'{account}' is not a name an account may have.", nameof(account));
        }

        if (IsOfficer(dataDirectory, account) || IsResearcher(dataDirectory, account))
        {
            return null;
        }

        var password = NewPassword();
        OwnerOnlyFile.WriteText(FileOf(dataDirectory, kind, account), HashPrefix + Hasher.HashPassword(account, password));
        return password;
    }

    /// <summary>A seeded account's password as its file keeps it; null for an added one, whose file keeps only a hash.</summary>
    public static string? Readable(string dataDirectory, string account) =>
        Stored(dataDirectory, account) is { } text && !text.StartsWith(HashPrefix, StringComparison.Ordinal) ? text : null;

    /// <summary>Removes an account: its next sign-in, and its next authorization even with a session open, is refused.</summary>
    public static bool Remove(string dataDirectory, string account)
    {
        var removed = false;
        foreach (var kind in Enum.GetValues<AccountKind>())
        {
            if (Exists(dataDirectory, kind, account))
            {
                File.Delete(FileOf(dataDirectory, kind, account));
                removed = true;
            }
        }

        return removed;
    }

    /// <summary>Every account, by kind and name.</summary>
    public static IEnumerable<(string Account, AccountKind Kind)> List(string dataDirectory) =>
        Enum.GetValues<AccountKind>().SelectMany(kind =>
        {
            var folder = Path.Combine(dataDirectory, FolderOf(kind));
            return Directory.Exists(folder)
                ? Directory.EnumerateFiles(folder, "*.password").Select(Path.GetFileNameWithoutExtension).OfType<string>().Where(IsName).Order(StringComparer.Ordinal).Select(account => (account, kind))
                : Enumerable.Empty<(string, AccountKind)>();
        });

    /// <summary>
    /// True when <paramref name="password"/> is the account's. Every attempt costs one hash and one constant-time
    /// comparison, whether the account is unknown, seeded or added, so the time taken tells none of them apart.
    /// </summary>
    public static bool Verify(string dataDirectory, string officerId, string password)
    {
        var stored = Stored(dataDirectory, officerId);
        var hashed = stored is not null && stored.StartsWith(HashPrefix, StringComparison.Ordinal);
        var hashMatches = Hasher.VerifyHashedPassword(officerId, hashed ? stored![HashPrefix.Length..] : Decoy.Value, password) != PasswordVerificationResult.Failed;
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(stored is not null && !hashed ? stored : Guid.NewGuid().ToString()));
        var plainMatches = CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(password)));
        return stored is not null && (hashed ? hashMatches : plainMatches);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex AccountName();
}
