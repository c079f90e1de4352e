using System.Net;
using System.Security.Claims;
using Ketenmesh.Identity.Domain;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// Privacy officers sign in at the identity service (authorization code with PKCE, RFC 6749 §4.1 and RFC 7636):
/// OpenIddict checks the request (client, redirect URI, PKCE); an officer who has not signed in is sent to a
/// minimal login page, then back. The token is the officer's as <c>./mesh token</c> makes it: sub = the
/// officer, scope <c>policy_admin</c>, partner_type <c>privacy_officer</c>, for the gateway. The Rapporteur's
/// researchers sign in the same way for the scope <c>statistics</c> and get a token of the partner <c>rapporteur</c>
/// (<see cref="RapporteurResearchers"/>).
/// </summary>
internal static class OfficerSignIn
{
    public const string Scheme = "ketenmesh-officer";
    public const string AuthorizePath = "/connect/authorize";
    public const string LoginPath = "/account/login";

    public static void AddCookie(IServiceCollection services)
    {
        services.AddAntiforgery();
        services.AddSingleton<SignInThrottle>();
        services.AddAuthentication().AddCookie(Scheme, cookie =>
        {
            cookie.LoginPath = LoginPath;
            cookie.Cookie.Name = "ketenmesh-officer";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.ExpireTimeSpan = TimeSpan.FromMinutes(15);
            cookie.SlidingExpiration = false;
        });
    }

    public static async Task<IResult> AuthorizeAsync(HttpContext http, IssuerOptions options, IdentityDirectory directory)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The authorization endpoint was reached without OpenIddict's request.");
        var asksOfficer = request.HasScope(PrivacyOfficers.Scope);
        var asksStatistics = request.HasScope(RapporteurResearchers.Scope);
        if (!asksOfficer && !asksStatistics)
        {
            return Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidScope,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = $"A privacy officer's token carries the scope '{PrivacyOfficers.Scope}', a Rapporteur's researcher's '{RapporteurResearchers.Scope}'; ask for one.",
            }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        var signedIn = await http.AuthenticateAsync(Scheme);
        var account = signedIn.Succeeded ? signedIn.Principal?.Identity?.Name : null;
        // The account as it is now, not as it was at sign-in: one removed meanwhile gets nothing, session or not.
        var officer = account is not null && asksOfficer && OfficerPasswords.IsOfficer(directory.Path, account);
        var researcher = account is not null && !officer && asksStatistics && OfficerPasswords.IsResearcher(directory.Path, account);
        if (!officer && !researcher)
        {
            // Not signed in, or signed in as someone who cannot have what is asked (an officer asking for the statistics):
            // the login page again, where the person can sign in with an account that can.
            var query = http.Request.HasFormContentType
                ? QueryString.Create((await http.Request.ReadFormAsync(http.RequestAborted)).Select(p => KeyValuePair.Create(p.Key, p.Value)))
                : http.Request.QueryString;
            return Results.Challenge(new AuthenticationProperties { RedirectUri = http.Request.PathBase + http.Request.Path + query }, [Scheme]);
        }

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        string scope;
        if (officer)
        {
            identity.SetClaim(Claims.Subject, account);
            identity.SetClaim(PartnerTypeNames.Claim, "privacy_officer");
            scope = PrivacyOfficers.Scope;
        }
        else
        {
            // The researcher acts for the Rapporteur: the partner is the subject, so its grant decides; who read stays in the token.
            identity.SetClaim(Claims.Subject, RapporteurResearchers.PartnerId);
            identity.SetClaim(PartnerTypeNames.Claim, RapporteurResearchers.PartnerType);
            identity.SetClaim(RapporteurResearchers.Claim, account);
            scope = RapporteurResearchers.Scope;
        }
        // An OpenID Connect client (the console) asks for openid too and gets an identity token naming the subject.
        var openId = request.HasScope(Scopes.OpenId);
        identity.SetScopes(openId ? [scope, Scopes.OpenId] : [scope]);
        identity.SetResources(options.Audience);
        identity.SetAccessTokenLifetime(options.Lifetime);
        identity.SetIdentityTokenLifetime(options.Lifetime);
        identity.SetDestinations(claim => openId && claim.Type == Claims.Subject ? [Destinations.AccessToken, Destinations.IdentityToken] : [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    public static IResult LoginPage(HttpContext http, IAntiforgery antiforgery) =>
        Page(http.Request.Query["ReturnUrl"].ToString(), antiforgery.GetAndStoreTokens(http), error: null);

    public static async Task<IResult> LoginAsync(HttpContext http, IdentityDirectory directory, IAntiforgery antiforgery, SignInThrottle throttle, ILogger<SignInThrottle> logger)
    {
        try
        {
            // The form must come from our login page: no one else can sign an officer in to their own account.
            await antiforgery.ValidateRequestAsync(http);
        }
        catch (AntiforgeryValidationException)
        {
            return Results.BadRequest("Sign in from the login page.");
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var officer = form["officer"].ToString();
        var returnUrl = form["returnUrl"].ToString();
        if (!IsLocal(returnUrl))
        {
            return Results.BadRequest("returnUrl must be a path on this server.");
        }

        if (!throttle.TryBegin(officer))
        {
            // Whoever it is: the account is not tried again this minute, so its password cannot be guessed at speed. Not
            // logged: each failure that used up its attempts was, and a refusal costs its sender nothing to repeat.
            return Page(returnUrl, antiforgery.GetAndStoreTokens(http), "Too many failed sign-ins to this account; try again in a minute.", StatusCodes.Status429TooManyRequests);
        }
        using (var turn = await throttle.TurnAsync(http.RequestAborted))
        {
            if (!turn.IsAcquired)
            {
                throttle.GiveBack(officer);
                return Page(returnUrl, antiforgery.GetAndStoreTokens(http), "Too many sign-ins at once; try again in a moment.", StatusCodes.Status429TooManyRequests);
            }
            if (!OfficerPasswords.Verify(directory.Path, officer, form["password"].ToString()))
            {
                // The address, never the name typed or the password: enough to see a guessing run and where it comes from.
                logger.LogWarning("A sign-in from {Peer} failed: unknown account or wrong password", http.Connection.RemoteIpAddress);
                return Page(returnUrl, antiforgery.GetAndStoreTokens(http), "Unknown account or wrong password.", StatusCodes.Status401Unauthorized);
            }
            throttle.GiveBack(officer);
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, officer)], Scheme);
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity));
        return Results.Redirect(returnUrl);
    }

    /// <summary>
    /// A path on this server, as ASP.NET Core's own check has it: not <c>//host</c> or <c>/\\host</c>, and no control
    /// character anywhere (a browser drops a tab or newline, so <c>/&#9;/host</c> would be <c>//host</c> to it).
    /// </summary>
    static bool IsLocal(string url) => url.StartsWith('/') && Microsoft.AspNetCore.Http.HttpResults.RedirectHttpResult.IsLocalUrl(url);

    static IResult Page(string returnUrl, AntiforgeryTokenSet antiforgery, string? error, int status = StatusCodes.Status200OK) => Results.Content($$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Ketenmesh: sign-in</title></head>
        <body>
        <h1>Sign in: privacy officers and the Rapporteur's researchers</h1>
        {{(error is null ? "" : $"<p role=\"alert\">{WebUtility.HtmlEncode(error)}</p>")}}
        <form method="post" action="{{LoginPath}}">
        <input type="hidden" name="returnUrl" value="{{WebUtility.HtmlEncode(returnUrl)}}">
        <input type="hidden" name="{{antiforgery.FormFieldName}}" value="{{antiforgery.RequestToken}}">
        <label>Officer or researcher <input name="officer" autocomplete="username" required></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Sign in</button>
        </form>
        </body></html>
        """, "text/html; charset=utf-8", statusCode: status);
}

/// <summary>The identity's data directory (keys, local clients, officers' passwords).</summary>
internal sealed record IdentityDirectory(string Path);
