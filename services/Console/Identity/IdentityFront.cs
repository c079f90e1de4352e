using System.Net;
using Yarp.ReverseProxy.Forwarder;

namespace Ketenmesh.OfficerConsole.Identity;

/// <summary>
/// The identity's two browser pages, the authorization endpoint and the officers' login page, served to the
/// browser through the console (docs/adr/0016). The identity speaks h2c only, which no browser does; the console
/// forwards these two paths to it over HTTP/2 and leaves everything else of the protocol where it is: the issuer
/// (<c>iss</c>), discovery, keys and the token endpoint stay the identity's own address, so the gateway, the
/// policy service and the services validate the officer's token as they validate every other.
/// </summary>
internal static class IdentityFront
{
    public const string AuthorizePath = "/connect/authorize";

    public const string LoginPath = "/account/login";

    public static void Map(IEndpointRouteBuilder endpoints, ConsoleOptions options)
    {
        var destination = options.Authority.GetLeftPart(UriPartial.Authority);
        var config = new ForwarderRequestConfig
        {
            ActivityTimeout = TimeSpan.FromSeconds(30),
            // Plain http is one of our own components: HTTP/2 with prior knowledge.
            Version = HttpVersion.Version20,
            VersionPolicy = options.Authority.Scheme == Uri.UriSchemeHttp ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
        };
        foreach (var path in new[] { AuthorizePath, LoginPath })
        {
            endpoints.MapForwarder(path, destination, config, KeepTheBrowsersHost.Instance).AllowAnonymous();
        }
    }

    /// <summary>
    /// The identity builds its redirects (to its login page, back to the authorization endpoint) from its own
    /// address; the browser is at the console's, so a redirect to the identity's origin is rewritten to the
    /// console's (what a reverse proxy's "proxy pass reverse" does). The request keeps the identity's host: the
    /// embedded mesh routes each component's endpoints by the port in the Host header.
    /// </summary>
    sealed class KeepTheBrowsersHost : HttpTransformer
    {
        public static readonly KeepTheBrowsersHost Instance = new();

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await Default.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            // The identity's own host (HttpTransformer.Default copies the browser's).
            proxyRequest.Headers.Host = null;
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            var proceed = await Default.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            if (httpContext.Request.IsHttps && httpContext.Response.Headers.SetCookie is { Count: > 0 } cookies
                && Microsoft.Net.Http.Headers.SetCookieHeaderValue.TryParseStrictList(cookies, out var parsed))
            {
                // The identity hears the console over h2c and cannot know that the browser came over TLS, so its sign-in
                // session and antiforgery cookies would go out without Secure and be sent again over plain http.
                foreach (var cookie in parsed)
                {
                    cookie.Secure = true;
                }
                httpContext.Response.Headers.SetCookie = parsed.Select(c => c.ToString()).ToArray();
            }
            if (proxyResponse?.Headers.Location is { IsAbsoluteUri: true } location
                && httpContext.RequestServices.GetRequiredService<ConsoleOptions>().Authority is { } identity
                && Uri.Compare(location, identity, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
            {
                var request = httpContext.Request;
                httpContext.Response.Headers.Location = $"{request.Scheme}://{request.Host}{request.PathBase}{location.PathAndQuery}";
            }

            return proceed;
        }
    }
}
