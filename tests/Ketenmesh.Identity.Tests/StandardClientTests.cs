using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Ketenmesh.Hosting;
using Ketenmesh.Security;
using Microsoft.Extensions.Configuration;

namespace Ketenmesh.Identity.Tests;

/// <summary>
/// A standard OAuth client that owes nothing to our code (Debian's python3-requests and python3-jwt,
/// tests/peers/python/oauth_client.py) reads discovery over HTTP/1.1 and gets a token with private_key_jwt
/// from the identity's TLS port, and the gateway's validator accepts that token.
/// </summary>
public sealed class StandardClientTests : IAsyncLifetime
{
    readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-identity-std-").FullName;
    readonly PartnerSystem _care = new("care-system");
    MeshApplication _mesh = null!;
    string _issuer = null!;
    string _caFile = null!;

    public async Task InitializeAsync()
    {
        var pfx = Path.Combine(_directory, "identity.pfx");
        _caFile = Path.Combine(_directory, "identity.pem");
        // A certificate authority of the test's own, as a partner's trust store would hold one, and the identity's certificate from it.
        using (var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var caRequest = new CertificateRequest("CN=Ketenmesh test CA", caKey, HashAlgorithmName.SHA256);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
            caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, critical: false));
            using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
            using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-4), DateTimeOffset.UtcNow.AddHours(23), RandomNumberGenerator.GetBytes(8));
            using var server = issued.CopyWithPrivateKey(key);
            await File.WriteAllBytesAsync(pfx, server.Export(X509ContentType.Pkcs12));
            await File.WriteAllTextAsync(_caFile, ca.ExportCertificatePem());
        }

        var tlsPort = FreePort();
        _issuer = $"https://127.0.0.1:{tlsPort}";
        _mesh = MeshHost.Build(new IdentityComponent(), [], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:Port"] = "0",
            ["Service:TlsPort"] = tlsPort.ToString(),
            ["Service:CertificatePath"] = pfx,
            ["Mesh:DataDirectory"] = _directory,
            ["Identity:Issuer"] = _issuer,
        }));
        await _mesh.App.StartAsync();
        await _care.RegisterAsync(_mesh.App.Services, "care");
    }

    public async Task DisposeAsync()
    {
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    async Task<JsonElement> RunClientAsync(params string[] extra)
    {
        var keyFile = Path.Combine(_directory, "care-system.pem");
        await File.WriteAllTextAsync(keyFile, _care.PrivateKeyPem);
        var info = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { Path.Combine(RepositoryRoot(), "tests/peers/python/oauth_client.py"), _issuer, _care.ClientId, keyFile, _caFile },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in extra)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await error);
        return JsonDocument.Parse(await output).RootElement.Clone();
    }

    [Fact]
    public async Task A_python_requests_client_gets_a_token_over_http_1_1_with_private_key_jwt()
    {
        var result = await RunClientAsync("victim_care");

        Assert.Equal("1.1", result.GetProperty("http_version").GetString());
        Assert.Equal($"{_issuer}/connect/token", result.GetProperty("token_endpoint").GetString());
        Assert.Equal(200, result.GetProperty("status").GetInt32());
        var body = result.GetProperty("body");
        Assert.Equal("victim_care", body.GetProperty("scope").GetString());

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        var validator = new AccessTokenValidator(new AccessTokenValidationOptions { Authority = new Uri(_issuer), Audience = "ketenmesh-gateway" }, http);
        var validated = await validator.ValidateAsync(body.GetProperty("access_token").GetString()!);
        Assert.Null(validated.Error);
        Assert.Equal(("care", "care-system"), (validated.Principal!.PartnerId, validated.Principal.ClientId));
    }

    [Fact]
    public async Task The_python_client_is_refused_a_purpose_its_partner_lacks()
    {
        var result = await RunClientAsync("criminal_investigation");

        Assert.Equal(400, result.GetProperty("status").GetInt32());
        Assert.Equal("invalid_scope", result.GetProperty("body").GetProperty("error").GetString());
    }

    static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Ketenmesh.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Not inside the repository.");
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
