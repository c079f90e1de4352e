using System.Security.Claims;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Policy;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// <c>POST /connect/token</c> after OpenIddict has done the protocol: parsed the request, authenticated the
/// client (private_key_jwt, and client secrets in the local profile), refused replays and purposes outside
/// the partner's. What is left is ours: whose token it is. The subject is the partner, the scopes its
/// purposes (all of them when none are asked for), the audience the gateway; OpenIddict signs it as an
/// RFC 9068 access token, bound to the TLS client certificate when one was presented (RFC 8705).
/// </summary>
internal static class TokenEndpoint
{
    public const string Path = "/connect/token";

    public static async Task<IResult> HandleAsync(HttpContext http, IOpenIddictApplicationManager applications, PartnerCatalog catalog, IssuerOptions options)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The token endpoint was reached without OpenIddict's request (is the passthrough enabled?).");
        if (request.IsAuthorizationCodeGrantType())
        {
            // An officer's code (OfficerSignIn): OpenIddict has checked it, its PKCE verifier and its client.
            var code = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            return Results.SignIn(code.Principal!, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        if (!request.IsClientCredentialsGrantType() || request.ClientId is not { } clientId)
        {
            throw new InvalidOperationException($"OpenIddict let a '{request.GrantType}' request through; only client_credentials and authorization_code are enabled.");
        }

        if (await PartnerClients.PartnerOfAsync(applications, clientId, catalog, http.RequestAborted) is not { } partner)
        {
            return Refuse(Errors.UnauthorizedClient, "This client is not registered for a partner of the chain.");
        }

        if (ScopeRequest.Resolve(partner, request.Scope, out var scopeError) is not { } purposes)
        {
            return Refuse(Errors.InvalidScope, scopeError!);
        }

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, partner.Id);
        identity.SetClaim(PartnerTypeNames.Claim, PartnerTypeNames.Of(partner.Type));
        identity.SetScopes(purposes.Order().Select(PurposeNames.ToScope));
        identity.SetResources(options.Audience);
        identity.SetAccessTokenLifetime(options.Lifetime);
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    static IResult Refuse(string error, string description) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
