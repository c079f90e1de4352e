using Chain.Audit.V1;
using Chain.Policy.V1;
using Chain.Registry.V1;
using Ketenmesh.Hosting;
using Ketenmesh.OfficerConsole.Audit;
using Ketenmesh.OfficerConsole.Dashboard;
using Ketenmesh.OfficerConsole.Grants;
using Ketenmesh.OfficerConsole.Identity;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;

namespace Ketenmesh.OfficerConsole;

/// <summary>
/// The privacy officers' console: port 8090, HTTP/1.1, Razor Pages. Officers sign in at the identity service
/// (authorization code + PKCE, docs/adr/0016); every call it makes to the sharing-policy service carries the
/// officer's own access token. It has no access of its own, and no database.
/// </summary>
public sealed class ConsoleComponent : IMeshComponent
{
    public string Name => "console";

    public int DefaultPort => 8090;

    /// <summary>Who may use the console: a signed-in privacy officer whose access token says so (<see cref="OfficerSignIn"/>).</summary>
    public const string OfficersOnly = "officers-only";

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection("Console").Get<ConsoleOptions>() ?? new ConsoleOptions();
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddHttpContextAccessor();
        services.AddDataProtection()
            .SetApplicationName("ketenmesh-console")
            // The sign-in cookie (and the officer's token in it) survives a restart of the console, not a new data directory.
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(EndpointOptions.DataDirectoryOf(configuration), "console-keys")));
        services.AddAntiforgery(o => o.Cookie.Name = "ketenmesh-console-antiforgery");
        // Over TLS, browsers are told to come back over TLS only. Every host counts: the console's name is the operator's.
        services.AddHsts(o =>
        {
            o.MaxAge = TimeSpan.FromDays(365);
            o.ExcludedHosts.Clear();
        });
        services.AddRazorPages(pages =>
        {
            pages.Conventions.AuthorizeFolder("/", OfficersOnly);
            pages.Conventions.AllowAnonymousToPage("/Refused");
            pages.Conventions.AllowAnonymousToPage("/SignedOut");
            pages.Conventions.AllowAnonymousToPage("/Error");
            // The Rapporteur's researchers, not officers: the page itself asks for their sign-in (DashboardModel).
            pages.Conventions.AllowAnonymousToPage("/Dashboard");
        });
        services.AddSingleton<OfficerSignIn>();
        services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = "ketenmesh-console";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.AccessDeniedPath = "/Refused";
                // The officer's access token lives at most this long too; the session ends with it (OfficerSignIn).
                cookie.SlidingExpiration = false;
            })
            .AddOpenIdConnect(oidc => OfficerSignIn.Configure(oidc, options));
        services.AddOptions<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme)
            .Configure<OfficerSignIn>((oidc, signIn) => signIn.AddEvents(oidc));
        services.AddAuthorizationBuilder().AddPolicy(OfficersOnly, policy => policy
            .RequireAuthenticatedUser()
            .RequireClaim(OfficerSignIn.OfficerClaim));
        services.AddHttpForwarder();
        services.AddGrpcClient<SharingPolicyAdmin.SharingPolicyAdminClient>(o => o.Address = options.PolicyAddress);
        services.AddGrpcClient<AuditTrail.AuditTrailClient>(o => o.Address = options.GatewayAddress);
        services.AddGrpcClient<VictimRegistry.VictimRegistryClient>(o => o.Address = options.GatewayAddress);
        services.AddScoped<SessionToken>();
        services.AddScoped<PolicyAdmin>();
        services.AddScoped<AuditTrailAsOfficer>();
        services.AddScoped<RapporteurStatistics>();
        services.AddSingleton(ProtoComments.Load());
        services.AddHealthChecks();
    }

    /// <summary>
    /// What every answer of the console carries, the identity's sign-in page it fronts included: no other site may
    /// frame it (a framed console could be clicked into approving or publishing a grant), forms post only to it,
    /// no referrer leaves it (its addresses name grants and pseudonyms), and no type is sniffed.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> SecurityHeaders = new Dictionary<string, string>
    {
        ["Content-Security-Policy"] = "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        ["X-Frame-Options"] = "DENY",
        ["Referrer-Policy"] = "no-referrer",
        ["X-Content-Type-Options"] = "nosniff",
    };

    /// <summary>
    /// The scheme the browser used, behind a TLS ingress too; the security headers; then authentication before the
    /// pages; errors as a plain page, never a stack trace.
    /// </summary>
    public static void UsePipeline(WebApplication app)
    {
        // Behind an ingress that ends TLS the console hears http: without the forwarded scheme it would send the
        // identity an http redirect_uri (refused: the registered one is https) and its form posts would be downgraded.
        // Only the scheme is taken, from whoever sends it: a caller who lies about it spoils its own sign-in only
        // (the redirect must still be one the identity registered). The host is never taken from a header.
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedProto };
        forwarded.KnownIPNetworks.Clear();
        forwarded.KnownProxies.Clear();
        app.UseForwardedHeaders(forwarded);
        app.Use((http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                foreach (var (name, value) in SecurityHeaders)
                {
                    http.Response.Headers[name] = value;
                }

                return Task.CompletedTask;
            });
            return next(http);
        });
        app.UseHsts();
        app.UseExceptionHandler("/Error");
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        IdentityFront.Map(endpoints, endpoints.ServiceProvider.GetRequiredService<ConsoleOptions>());
        endpoints.MapRazorPages();
        endpoints.MapHealthChecks("/healthz/ready").AllowAnonymous();
        endpoints.MapHealthChecks("/healthz/live").AllowAnonymous();
    }
}
