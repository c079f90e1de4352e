namespace Ketenmesh.Gateway;

/// <summary>Section <c>Gateway</c>.</summary>
public sealed class GatewayOptions
{
    /// <summary>The token issuer, found through its discovery document (our identity service, Keycloak, Duende…).</summary>
    public Uri Authority { get; set; } = new("http://127.0.0.1:8081");

    /// <summary>The <c>aud</c> a partner's token must carry.</summary>
    public string Audience { get; set; } = "ketenmesh-gateway";

    /// <summary>
    /// The gateway's own address as services reach it: the iss of its transaction tokens and where they
    /// read its JWKS (their <c>CallerTrust:Gateway</c>). Unset: loopback at the gateway's port.
    /// </summary>
    public Uri? Issuer { get; set; }

    /// <summary>The sharing-policy service whose published policy the gateway enforces.</summary>
    public Uri PolicyAddress { get; set; } = new("http://127.0.0.1:8082");

    /// <summary>
    /// The hop to the services runs over TLS with client certificates: the gateway presents the mesh
    /// authority's certificate for the gateway and accepts only the one issued to each cluster's service
    /// (ADR 0006; the real profile sets it, with destinations on https).
    /// </summary>
    public bool MutualTls { get; set; }

    /// <summary>Calls per second each partner may make on average.</summary>
    public int RateLimitPerSecond { get; set; } = 2000;

    /// <summary>Calls a partner may make at once above the average before it is slowed down.</summary>
    public int RateLimitBurst { get; set; } = 4000;

    /// <summary>
    /// Refusals anyone can cause in bulk (no valid token: per remote address; over the rate limit: per
    /// partner) are folded per source over this window: the first is recorded at once, the rest of the
    /// window in one follow-up record with their count (<see cref="Access.FoldedDenials"/>).
    /// </summary>
    public TimeSpan DenialWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Permits per second each caller gets for the gateway's own services (audit trail, reflection, named
    /// health): a call costs one, a page of N audit records ceil(N/100), so reading the trail costs what it
    /// costs the database and one reader cannot starve the gateway.
    /// </summary>
    public int OwnServicesPermitsPerSecond { get; set; } = 20;

    /// <summary>Permits a caller may spend at once above the average; at least 10, the cost of the largest page.</summary>
    public int OwnServicesBurst { get; set; } = 40;

    /// <summary>
    /// The longest one VerifyChain call checks the chain (less when the call's deadline comes sooner): a long chain
    /// is checked slice by slice, so an officer's verification never holds the gateway for the length of the log.
    /// </summary>
    public TimeSpan AuditVerifySlice { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest lifetime (exp − iat) of a partner's access token the gateway accepts. By default, and at
    /// most, the chain's ceiling that the identity service issues within (<see cref="Security.AccessTokens.MaxLifetime"/>).
    /// </summary>
    public TimeSpan MaxTokenLifetime { get; set; } = Security.AccessTokens.MaxLifetime;

    /// <summary>
    /// How long a client stream the gateway ended because it is stopping keeps its connection open, for its partner to
    /// read the status. Closing the connection sooner can cost the partner that status: .NET's HttpClient, for one, then
    /// reports the connection closing instead (INTERNAL, not UNAVAILABLE). Stopping takes this much longer only while
    /// such a stream is open.
    /// </summary>
    public TimeSpan StreamEndGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest <see cref="StreamEndGrace"/>: well inside the host's and Kubernetes' shutdown timeouts (30 s).</summary>
    public static readonly TimeSpan MaxStreamEndGrace = TimeSpan.FromSeconds(10);

    /// <summary>Largest message the gateway relays either way.</summary>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;
}
