using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Ketenmesh.Hosting;
using Microsoft.Extensions.Configuration;

namespace Ketenmesh.Mesh.Tests;

public sealed class DevelopmentCertificateTests
{
    [Fact]
    public async Task Tls_port_without_a_certificate_serves_one_made_at_first_run_and_kept_private()
    {
        var data = Directory.CreateTempSubdirectory("ketenmesh-devcert-").FullName;
        var tlsPort = FreePort();
        var mesh = MeshHost.Build(new HealthOnlyComponent(0), [], c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = data,
            ["Service:Port"] = "0",
            ["Service:TlsPort"] = tlsPort.ToString(),
            ["Service:DevelopmentCertificate"] = "true",
        }));
        await mesh.App.StartAsync();
        try
        {
            var file = Path.Combine(data, "probe-development-tls.pfx");
            Assert.True(File.Exists(file));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }

            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, tlsPort);
            await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", ApplicationProtocols = [SslApplicationProtocol.Http2] });
            Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);
            Assert.Contains("CN=localhost", tls.RemoteCertificate!.Subject);
        }
        finally
        {
            await mesh.App.StopAsync();
            await mesh.App.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public void Tls_port_without_any_certificate_setting_is_a_configuration_error()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Service:TlsPort"] = "8443" }).Build();

        var error = Assert.Throws<InvalidOperationException>(() => EndpointOptions.For(new HealthOnlyComponent(0), configuration));

        Assert.Contains("Service:CertificatePath", error.Message);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
