namespace Ketenmesh.Identity;

/// <summary>Section <c>Identity</c>.</summary>
public sealed class IdentitySettings
{
    /// <summary>The <c>iss</c> of every token and the base of discovery; default <c>http://127.0.0.1:{Service:Port}</c>.</summary>
    public string? Issuer { get; set; }

    /// <summary>Access token lifetime, at most 10 minutes.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The signing keys; default <c>{Mesh:DataDirectory}/identity-keys.json</c>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Register a local client (key made at first use) for every seeded partner: the local profile only.</summary>
    public bool LocalClients { get; set; }

    /// <summary>
    /// Accept client secrets (client_secret_basic and client_secret_post) besides private_key_jwt: for
    /// the local profile only, so a developer can try the token endpoint with curl.
    /// </summary>
    public bool AllowClientSecrets { get; set; }

    /// <summary>
    /// Where the privacy officers' console (services/Console) receives the authorization code: its
    /// <c>/signin-oidc</c> as the browser reaches it (deploy/components.ini gives it per target). The console's
    /// client and the officers' and researchers' accounts are registered in every profile, local clients or not:
    /// the console is a public client with no secret, and the accounts' passwords are made at first run into the
    /// data directory. Empty: none is registered or made (one registered before stays until it is removed).
    /// </summary>
    public string ConsoleRedirectUri { get; set; } = "http://127.0.0.1:8090/signin-oidc";
}
