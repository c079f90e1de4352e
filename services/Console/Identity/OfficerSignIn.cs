using System.Net;
using System.Security.Claims;
using Ketenmesh.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;

namespace Ketenmesh.OfficerConsole.Identity;

/// <summary>
/// Signing officers in with ASP.NET Core's OpenID Connect handler: authorization code with PKCE at the identity
/// service, the officer's access token kept in the encrypted sign-in cookie (SaveTokens) and sent with every call
/// the console makes for them. Only a privacy officer gets a session: the access token is validated as the
/// sharing-policy service validates it, and must carry scope <c>policy_admin</c> and partner_type
/// <c>privacy_officer</c>; anyone else is sent to the refusal page.
/// </summary>
public sealed class OfficerSignIn
{
    /// <summary>The officer's id, set only once their access token was found to be an officer's.</summary>
    public const string OfficerClaim = "ketenmesh:officer";

    public const string Scope = "policy_admin";

    public const string PartnerType = "privacy_officer";

    /// <summary>The Rapporteur's researcher's name, set only once their access token was found to be the Rapporteur's, for statistics.</summary>
    public const string RapporteurClaim = "ketenmesh:rapporteur";

    public const string StatisticsScope = "statistics";

    /// <summary>A challenge with this item set asks the identity for the Rapporteur's statistics rather than an officer's rights.</summary>
    public const string ForStatistics = "ketenmesh:for-statistics";

    readonly AccessTokenValidator _validator;

    public OfficerSignIn(ConsoleOptions options, TimeProvider clock) =>
        _validator = new AccessTokenValidator(
            new AccessTokenValidationOptions { Authority = options.Authority, Audience = options.Audience },
            AuthorityHttp.For(options.Authority), clock);

    public static void Configure(OpenIdConnectOptions oidc, ConsoleOptions options)
    {
        oidc.Authority = options.Authority.ToString();
        oidc.RequireHttpsMetadata = options.Authority.Scheme == Uri.UriSchemeHttps;
        oidc.ClientId = options.ClientId;
        oidc.ResponseType = "code";
        // The code comes back in the query of a top-level navigation: the correlation cookie (SameSite=Lax) goes with it.
        oidc.ResponseMode = "query";
        oidc.UsePkce = true;
        oidc.Scope.Clear();
        oidc.Scope.Add("openid");
        oidc.Scope.Add(Scope);
        oidc.SaveTokens = true;
        oidc.GetClaimsFromUserInfoEndpoint = false;
        oidc.MapInboundClaims = false;
        oidc.TokenValidationParameters.NameClaimType = "sub";
        // Loopback is plain http: cookies marked Secure would not come back. Behind TLS the request is https and they are.
        oidc.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
        oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        oidc.NonceCookie.SameSite = SameSiteMode.Lax;
        // Discovery, keys and the token endpoint are reached server-side at the identity's own address (h2c on loopback).
        oidc.Backchannel = new HttpClient(new Http2PriorKnowledge(options.Authority.Scheme == Uri.UriSchemeHttp) { InnerHandler = new SocketsHttpHandler() })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
    }

    public void AddEvents(OpenIdConnectOptions oidc)
    {
        oidc.Events.OnRedirectToIdentityProvider = context =>
        {
            // The browser reaches the identity's authorization endpoint through the console (IdentityFront).
            var request = context.Request;
            context.ProtocolMessage.IssuerAddress = $"{request.Scheme}://{request.Host}{request.PathBase}{IdentityFront.AuthorizePath}";
            if (context.Properties.Items.ContainsKey(ForStatistics))
            {
                // The dashboard: the Rapporteur's researcher signs in for the statistics, nothing an officer may do.
                context.ProtocolMessage.Scope = "openid " + StatisticsScope;
            }
            return Task.CompletedTask;
        };
        oidc.Events.OnTokenValidated = async context =>
        {
            var accessToken = context.TokenEndpointResponse?.AccessToken;
            var validation = accessToken is null ? null : await _validator.ValidateAsync(accessToken, context.HttpContext.RequestAborted);
            var officer = validation?.Principal is { } o && o.Purposes.Contains(Scope) && o.PartnerType == PartnerType;
            var rapporteur = validation?.Principal is { } r && r.Purposes.Contains(StatisticsScope) && r.PartnerType == "rapporteur" && r.PartnerId == "rapporteur";
            if (validation?.Principal is not { } principal || !officer && !rapporteur)
            {
                context.HandleResponse();
                context.Response.Redirect("/Refused");
                return;
            }

            var identity = (ClaimsIdentity)context.Principal!.Identity!;
            if (officer)
            {
                identity.AddClaim(new Claim(OfficerClaim, principal.PartnerId));
            }
            else
            {
                // Which researcher: the token names them beside the partner it acts for.
                new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(accessToken!).TryGetPayloadValue<string>("researcher", out var researcher);
                identity.AddClaim(new Claim(RapporteurClaim, string.IsNullOrEmpty(researcher) ? "the Rapporteur" : researcher));
            }
            // The session ends when the officer's token does: every page after that asks the identity again.
            context.Properties!.ExpiresUtc = principal.ExpiresAt;
            context.Properties.AllowRefresh = false;
        };
        oidc.Events.OnRemoteFailure = context =>
        {
            // A refused or broken sign-in (the identity said no, a stale correlation cookie): a plain page, no details.
            context.HandleResponse();
            context.Response.Redirect("/Refused?reason=sign-in");
            return Task.CompletedTask;
        };
    }

    /// <summary>Plain http means one of our own components, which speak HTTP/2 without TLS (prior knowledge).</summary>
    sealed class Http2PriorKnowledge(bool exact) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Version = HttpVersion.Version20;
            request.VersionPolicy = exact ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
