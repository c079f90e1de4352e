using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ketenmesh.Persistence;

namespace Ketenmesh.Hosting;

/// <summary>
/// The development certificate authority of the real profile and the certificates it issues, one per
/// component, made at first run in <c>{data directory}/mesh-tls</c> (owner-only files, never committed).
/// The gateway presents its certificate to the services and they present theirs to it: the hop behind
/// the gateway is TLS with client certificates (ADR 0006). Components started as separate processes
/// share the directory, so making the authority is serialised by a lock file.
/// </summary>
public static class MeshCertificates
{
    /// <summary>The one component whose certificate the services accept on the hop.</summary>
    public const string Gateway = "gateway";

    /// <summary>Where the authority and the components' certificates live, below the data directory.</summary>
    public static string DirectoryOf(string dataDirectory) => Path.Combine(dataDirectory, "mesh-tls");

    /// <summary>The authority's certificate, public part only: what every component trusts on the hop.</summary>
    public static X509Certificate2 Authority(string directory)
    {
        using var authority = WithLock(directory, () => LoadOrCreateAuthority(directory));
        return X509CertificateLoader.LoadCertificate(authority.RawData);
    }

    /// <summary>The certificate (with its key) of <paramref name="component"/>, issued by the authority when missing or near its end.</summary>
    public static X509Certificate2 For(string directory, string component) => WithLock(directory, () =>
    {
        var path = Path.Combine(directory, $"{component}.pfx");
        if (Load(path) is { } existing)
        {
            return existing;
        }
        using var authority = LoadOrCreateAuthority(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={component}, O=Ketenmesh mesh", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(component);
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        // Server and client: a service answers the gateway, and the gateway proves itself to the service.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var notAfter = DateTimeOffset.UtcNow.AddDays(90) < authority.NotAfter ? DateTimeOffset.UtcNow.AddDays(90) : new DateTimeOffset(authority.NotAfter);
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        using var withKey = issued.CopyWithPrivateKey(key);
        var bytes = withKey.Export(X509ContentType.Pkcs12);
        OwnerOnlyFile.Write(path, bytes);
        return X509CertificateLoader.LoadPkcs12(bytes, null);
    });

    /// <summary>
    /// Whether <paramref name="presented"/> was issued by <paramref name="authority"/> and is in force, trusting
    /// that authority alone (not the machine's roots), and names one of <paramref name="allowed"/> (any, when null) as its subject.
    /// </summary>
    public static bool IsIssuedTo(X509Certificate2 presented, X509Certificate2 authority, IReadOnlyCollection<string>? allowed)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(presented))
        {
            return false;
        }
        var name = presented.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return allowed is null || allowed.Contains(name, StringComparer.Ordinal);
    }

    private static X509Certificate2 LoadOrCreateAuthority(string directory)
    {
        var path = Path.Combine(directory, "authority.pfx");
        if (Load(path) is { } existing)
        {
            return existing;
        }
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Ketenmesh development mesh CA, O=Ketenmesh development", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        var bytes = created.Export(X509ContentType.Pkcs12);
        OwnerOnlyFile.Write(path, bytes);
        return X509CertificateLoader.LoadPkcs12(bytes, null);
    }

    /// <summary>A stored certificate still good for a week, or null (then a new one is made).</summary>
    private static X509Certificate2? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        var existing = X509CertificateLoader.LoadPkcs12FromFile(path, null);
        if (existing.NotAfter > DateTime.UtcNow.AddDays(7))
        {
            return existing;
        }
        existing.Dispose();
        return null;
    }

    /// <summary>Runs <paramref name="action"/> holding the directory's lock file (an exclusive flock), across processes.</summary>
    private static T WithLock<T>(string directory, Func<T> action)
    {
        Directory.CreateDirectory(directory);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        FileStream? lockFile = null;
        while (lockFile is null)
        {
            try
            {
                lockFile = new FileStream(Path.Combine(directory, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another component is making the authority or its certificate right now.
                Thread.Sleep(50);
            }
        }
        using (lockFile)
        {
            return action();
        }
    }

    /// <summary>
    /// Makes <paramref name="handler"/> present <paramref name="self"/>'s certificate and accept only a
    /// server whose certificate the mesh authority issued to one of <paramref name="servers"/> (to any
    /// component when null: a test playing the gateway).
    /// </summary>
    public static void ConfigureClient(SocketsHttpHandler handler, string dataDirectory, string self, IReadOnlyCollection<string>? servers)
    {
        var directory = DirectoryOf(dataDirectory);
        var certificate = For(directory, self);
        var authority = Authority(directory);
        handler.SslOptions.ClientCertificates = [certificate];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is X509Certificate2 server && IsIssuedTo(server, authority, servers);
    }
}
