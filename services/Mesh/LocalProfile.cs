namespace Ketenmesh.Mesh;

/// <summary>
/// What makes the embedded mesh the local profile: seeded partner clients (and their development
/// secrets) and a TLS port on the gateway with a certificate made at first run. Defaults in code,
/// below appsettings, environment and command line, so any of those can override them.
/// </summary>
public static class LocalProfile
{
    public static IReadOnlyDictionary<string, string?> Defaults { get; } = new Dictionary<string, string?>
    {
        ["Identity:LocalClients"] = "true",
        ["Identity:AllowClientSecrets"] = "true",
        ["Components:gateway:Service:TlsPort"] = "8443",
        ["Components:gateway:Service:DevelopmentCertificate"] = "true",
    };
}
