using Microsoft.Extensions.Configuration;

namespace Ketenmesh.Hosting;

/// <summary>Where a component listens: section <c>Service</c> (or <c>Components:{name}:Service</c> in the embedded mesh).</summary>
public sealed class EndpointOptions
{
    /// <summary>h2c port; 0 picks a free one (tests).</summary>
    public int Port { get; init; }

    /// <summary>127.0.0.1 locally; 0.0.0.0 in containers.</summary>
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>Optional TLS endpoint (HTTP/2 by ALPN, HTTP/1.1 answered with 426).</summary>
    public int? TlsPort { get; init; }

    public string? CertificatePath { get; init; }

    public string? CertificatePassword { get; init; }

    /// <summary>The certificate is the local profile's own, made at first run (see <see cref="DevelopmentCertificate"/>).</summary>
    public bool IsDevelopmentCertificate { get; init; }

    /// <summary>
    /// <see cref="Port"/> speaks TLS and requires a client certificate the mesh authority issued to the
    /// gateway (<see cref="MeshCertificates"/>): the hop behind the gateway in the real profile.
    /// </summary>
    public bool MutualTls { get; init; }

    /// <summary>The most connections it holds at once (<see cref="IMeshComponent.DefaultMaxConnections"/>).</summary>
    public int MaxConnections { get; init; } = 1_000;

    /// <summary>The component's name: whose mesh certificate it serves with.</summary>
    public string Component { get; init; } = "";

    /// <summary>Where keys and certificates live (<c>Mesh:DataDirectory</c>).</summary>
    public string DataDirectory { get; init; } = Path.Combine(".mesh", "data");

    public static EndpointOptions For(IMeshComponent component, IConfiguration configuration)
    {
        var section = configuration.GetSection("Service");
        var port = section.GetValue<int?>("Port") ?? component.DefaultPort;
        if (port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"Service:Port {port} for {component.Name} is not a TCP port.");
        }
        var maxConnections = section.GetValue<int?>("MaxConnections") ?? component.DefaultMaxConnections;
        if (maxConnections < 1)
        {
            throw new InvalidOperationException($"Service:MaxConnections {maxConnections} for {component.Name} must be at least 1.");
        }
        var tlsPort = section.GetValue<int?>("TlsPort");
        var certificate = section["CertificatePath"];
        var development = false;
        if (tlsPort is not null && string.IsNullOrEmpty(certificate))
        {
            if (!section.GetValue("DevelopmentCertificate", false))
            {
                throw new InvalidOperationException($"Service:TlsPort is set for {component.Name} but neither Service:CertificatePath nor Service:DevelopmentCertificate is.");
            }
            certificate = Path.Combine(DataDirectoryOf(configuration), $"{component.Name}-development-tls.pfx");
            development = true;
        }
        return new EndpointOptions
        {
            Port = port,
            BindAddress = section["BindAddress"] ?? "127.0.0.1",
            TlsPort = tlsPort,
            CertificatePath = certificate,
            IsDevelopmentCertificate = development,
            CertificatePassword = section["CertificatePassword"],
            MutualTls = section.GetValue("MutualTls", false),
            MaxConnections = maxConnections,
            Component = component.Name,
            DataDirectory = DataDirectoryOf(configuration),
        };
    }

    public static string DataDirectoryOf(IConfiguration configuration) => configuration["Mesh:DataDirectory"] ?? Path.Combine(".mesh", "data");
}
