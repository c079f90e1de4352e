using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Domain;

/// <summary>
/// The local profile's partner systems: one key pair per seeded partner, generated at first run into
/// the data directory (never committed) and registered as client <c>{partner}-local</c>, so a
/// developer can get a real token for any partner (<c>./mesh token police</c>).
/// </summary>
public static class LocalClients
{
    public static string ClientId(Partner partner) => $"{partner.Id}-local";

    public static void Register(ClientRegistry registry, PartnerCatalog catalog, string dataDirectory)
    {
        foreach (var partner in catalog.All)
        {
            using var key = LoadOrCreateKey(dataDirectory, partner);
            var publicKey = new ECDsaSecurityKey(ECDsa.Create(key.ExportParameters(includePrivateParameters: false))) { KeyId = ClientId(partner) };
            registry.Register(new Client(ClientId(partner), partner, publicKey));
        }
    }

    /// <summary>The partner's local private key; created (readable by the owner only) when missing.</summary>
    public static ECDsa LoadOrCreateKey(string dataDirectory, Partner partner)
    {
        var path = Path.Combine(dataDirectory, "local-clients", $"{partner.Id}.pkcs8");
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(File.ReadAllText(path)), out _);
            return key;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(new FileStream(path, options)))
        {
            writer.Write(Convert.ToBase64String(key.ExportPkcs8PrivateKey()));
        }

        return key;
    }
}
