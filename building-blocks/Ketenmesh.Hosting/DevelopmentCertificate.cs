using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ketenmesh.Persistence;

namespace Ketenmesh.Hosting;

/// <summary>
/// The TLS certificate of the local profile, made at first run into the data directory (owner-only
/// file) so the TLS ports work out of the box; never committed, never used outside development.
/// A deployment names its own certificate with <c>Service:CertificatePath</c>.
/// </summary>
public static class DevelopmentCertificate
{
    public static X509Certificate2 LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var existing = X509CertificateLoader.LoadPkcs12FromFile(path, null);
            if (existing.NotAfter > DateTime.UtcNow.AddDays(7))
            {
                return existing;
            }
            existing.Dispose();
        }
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=Ketenmesh development", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        var bytes = created.Export(X509ContentType.Pkcs12);
        OwnerOnlyFile.Write(path, bytes);
        return X509CertificateLoader.LoadPkcs12(bytes, null);
    }
}
