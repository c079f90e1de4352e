namespace Ketenmesh.OfficerConsole;

/// <summary>Section <c>Console</c>: where the console finds the identity, the sharing-policy service and the gateway.</summary>
public sealed class ConsoleOptions
{
    /// <summary>The identity service (the token issuer, found by discovery); the browser's sign-in pages are fronted by the console.</summary>
    public Uri Authority { get; set; } = new("http://127.0.0.1:8081");

    /// <summary>chain.policy.v1.SharingPolicyAdmin, called with the officer's own token.</summary>
    public Uri PolicyAddress { get; set; } = new("http://127.0.0.1:8082");

    /// <summary>The gateway (its audit trail, for the audit pages).</summary>
    public Uri GatewayAddress { get; set; } = new("http://127.0.0.1:8080");

    /// <summary>The console's client at the identity (authorization code + PKCE, a public client).</summary>
    public string ClientId { get; set; } = "ketenmesh-console";

    /// <summary>The <c>aud</c> of officers' access tokens (the identity's one audience).</summary>
    public string Audience { get; set; } = "ketenmesh-gateway";
}
