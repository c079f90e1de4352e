using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Tests;

/// <summary>OAuth clients speak HTTP/1.1 over TLS; the identity service's TLS port answers them.</summary>
public sealed class HttpsTests : IAsyncLifetime
{
    readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-identity-tls-").FullName;
    MeshApplication _mesh = null!;
    int _tlsPort;

    public async Task InitializeAsync()
    {
        var certificate = Path.Combine(_directory, "identity.pfx");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(certificate, self.Export(X509ContentType.Pkcs12));
        }

        _tlsPort = FreePort();
        _mesh = MeshHost.Build(new IdentityComponent(), [], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:Port"] = "0",
            ["Service:TlsPort"] = _tlsPort.ToString(),
            ["Service:CertificatePath"] = certificate,
            ["Mesh:DataDirectory"] = _directory,
            ["Identity:Issuer"] = $"https://127.0.0.1:{_tlsPort}",
        }));
        await _mesh.App.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Discovery_jwks_and_token_endpoint_answer_http_1_1_over_tls()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var discovery = await http.GetAsync($"https://127.0.0.1:{_tlsPort}/.well-known/openid-configuration");
        Assert.Equal(HttpVersion.Version11, discovery.Version);
        var document = await discovery.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"https://127.0.0.1:{_tlsPort}/connect/token", document.GetProperty("token_endpoint").GetString());

        var jwks = await http.GetFromJsonAsync<JsonElement>(document.GetProperty("jwks_uri").GetString());
        Assert.NotEmpty(jwks.GetProperty("keys").EnumerateArray());

        using var token = await http.PostAsync(document.GetProperty("token_endpoint").GetString(),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }));
        Assert.True(token.StatusCode == HttpStatusCode.Unauthorized, await token.Content.ReadAsStringAsync());
        Assert.Equal("invalid_client", (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_client_that_presents_a_tls_certificate_gets_a_token_bound_to_it()
    {
        var iom = new PartnerSystem("iom-system");
        await iom.RegisterAsync(_mesh.App.Services, "iom");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var clientCertificate = new CertificateRequest("CN=iom-system", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
            ClientCertificateOptions = ClientCertificateOption.Manual,
        };
        handler.ClientCertificates.Add(clientCertificate);
        using var http = new HttpClient(handler);

        var endpoint = $"https://127.0.0.1:{_tlsPort}/connect/token";
        using var response = await http.PostAsync(endpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = iom.Assertion($"https://127.0.0.1:{_tlsPort}/"),
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var accessToken = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        var cnf = new JsonWebToken(accessToken).GetPayloadValue<Dictionary<string, object>>("cnf");
        Assert.Equal(Base64UrlEncoder.Encode(SHA256.HashData(clientCertificate.RawData)), cnf["x5t#S256"].ToString());
    }

    static X509Certificate2 SelfSignedRsaClientCertificate(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    async Task<HttpResponseMessage> RequestWithCertificateOnlyAsync(X509Certificate2 certificate, string clientId)
    {
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
            ClientCertificateOptions = ClientCertificateOption.Manual,
        };
        handler.ClientCertificates.Add(certificate);
        using var http = new HttpClient(handler);
        return await http.PostAsync($"https://127.0.0.1:{_tlsPort}/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
        }));
    }

    /// <summary>The registered key entry: the certificate's RSA key with the certificate itself in x5c (RFC 8705 §2.2).</summary>
    async Task RegisterCertificateClientAsync(string clientId, string partnerId, X509Certificate2 certificate)
    {
        var key = JsonWebKeyConverter.ConvertFromX509SecurityKey(new X509SecurityKey(X509CertificateLoader.LoadCertificate(certificate.RawData)), representAsRsaKey: true);
        if (key.X5c.Count == 0)
        {
            key.X5c.Add(Convert.ToBase64String(certificate.RawData));
        }

        key.Use = JsonWebKeyUseNames.Sig;
        var keys = new JsonWebKeySet();
        keys.Keys.Add(key);
        await using var scope = _mesh.App.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        await PartnerClients.RegisterAsync(applications, PartnerClients.Describe(clientId, PartnerCatalog.Seeded.Find(partnerId)!, keys));
    }

    [Fact]
    public async Task A_client_authenticated_by_its_registered_self_signed_certificate_gets_a_token_bound_to_it()
    {
        using var certificate = SelfSignedRsaClientCertificate("dtv-system");
        await RegisterCertificateClientAsync("dtv-system", "dtv", certificate);

        using var response = await RequestWithCertificateOnlyAsync(certificate, "dtv-system");

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var token = new JsonWebToken(JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString());
        Assert.Equal("dtv", token.Subject);
        Assert.Equal(Base64UrlEncoder.Encode(SHA256.HashData(certificate.RawData)), token.GetPayloadValue<Dictionary<string, object>>("cnf")["x5t#S256"].ToString());
    }

    [Fact]
    public async Task A_self_signed_certificate_the_client_did_not_register_does_not_authenticate_it()
    {
        using var registered = SelfSignedRsaClientCertificate("dtv-system");
        using var other = SelfSignedRsaClientCertificate("dtv-system");
        await RegisterCertificateClientAsync("dtv-system", "dtv", registered);

        using var response = await RequestWithCertificateOnlyAsync(other, "dtv-system");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
