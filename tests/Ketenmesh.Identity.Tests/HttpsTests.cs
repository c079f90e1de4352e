using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
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

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
