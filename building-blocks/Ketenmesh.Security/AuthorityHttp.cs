using System.Net;

namespace Ketenmesh.Security;

/// <summary>How to reach a token issuer's discovery document and JWKS.</summary>
public static class AuthorityHttp
{
    /// <summary>
    /// Plain http means one of our own components, which speak HTTP/2 without TLS (prior knowledge);
    /// https is any standard issuer (Keycloak, Duende), reached by whatever ALPN agrees on.
    /// </summary>
    public static HttpClient For(Uri authority) => authority.Scheme == Uri.UriSchemeHttp
        ? new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TimeSpan.FromSeconds(10) }
        : new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower, Timeout = TimeSpan.FromSeconds(10) };
}
