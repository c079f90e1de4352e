using System.Security.Cryptography;
using Ketenmesh.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Access;

/// <summary>Who is calling: the bearer token, validated, and whether it is bound to the certificate presented.</summary>
public sealed record Caller(PartnerPrincipal Principal, bool CertificateBound);

/// <summary>
/// Partners' access tokens, checked by ASP.NET Core's JwtBearer handler against the identity service's
/// discovery document: signature, issuer, audience, lifetime and the RFC 9068 <c>typ</c>, and that it
/// lives no longer than <see cref="GatewayOptions.MaxTokenLifetime"/> (<see cref="RememberedTokens"/>); then its
/// claims and the RFC 8705 certificate binding. A named scheme, not the default: in the embedded mesh other components share the container.
/// </summary>
public static class PartnerTokens
{
    public const string Scheme = "partner-access-token";

    public static void Add(IServiceCollection services)
    {
        services.AddAuthentication().AddJwtBearer(Scheme, _ => { });
        services.AddOptions<JwtBearerOptions>(Scheme).Configure<IOptions<GatewayOptions>, TimeProvider>((bearer, gateway, clock) =>
        {
            var authority = gateway.Value.Authority;
            bearer.Authority = authority.ToString();
            bearer.Audience = gateway.Value.Audience;
            // Loopback development runs without TLS; anywhere else an http authority is a configuration error.
            bearer.RequireHttpsMetadata = !authority.IsLoopback;
            bearer.Backchannel = AuthorityHttp.For(authority);
            // Claims keep their JWT names (sub, scope, cnf); nothing is renamed to WS-* URIs.
            bearer.MapInboundClaims = false;
            bearer.TokenHandlers.Clear();
            var maxLifetime = gateway.Value.MaxTokenLifetime;
            bearer.TokenHandlers.Add(new RememberedTokens(clock, maxLifetime) { MapInboundClaims = false });
            bearer.TokenValidationParameters.ValidTypes = AccessTokenValidator.AccessTokenTypes;
            bearer.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
            bearer.TokenValidationParameters.RequireExpirationTime = true;
            bearer.Events = new JwtBearerEvents
            {
                OnTokenValidated = context =>
                {
                    var validation = AccessTokenValidator.PrincipalOf((JsonWebToken)context.SecurityToken);
                    if (validation.Principal is null)
                    {
                        context.Fail(validation.Error!);
                        return Task.CompletedTask;
                    }
                    var (caller, error) = Bind(validation.Principal, context.HttpContext);
                    if (caller is null)
                    {
                        context.Fail(error!);
                        return Task.CompletedTask;
                    }
                    context.HttpContext.Features.Set(caller);
                    return Task.CompletedTask;
                },
            };
        });
    }

    /// <summary>RFC 8705 §3: a bound token is only good together with the certificate it names.</summary>
    private static (Caller?, string?) Bind(PartnerPrincipal principal, HttpContext http)
    {
        if (principal.CertificateThumbprint is not { } expected)
        {
            return (new Caller(principal, CertificateBound: false), null);
        }
        var certificate = http.Connection.ClientCertificate;
        if (certificate is null)
        {
            return (null, "The access token is bound to a client certificate (cnf x5t#S256), but the call presented none. Call the gateway over TLS with that certificate.");
        }
        var presented = WebEncoders.Base64UrlEncode(SHA256.HashData(certificate.RawData));
        if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(presented), System.Text.Encoding.ASCII.GetBytes(expected)))
        {
            return (null, "The access token is bound to a different client certificate than the one presented.");
        }
        return (new Caller(principal, CertificateBound: true), null);
    }
}

/// <summary>Authenticates a call with the <see cref="PartnerTokens"/> scheme and words a refusal for the partner's developer.</summary>
public sealed class CallerAuthenticator
{
    /// <returns>The caller, or null with a reason for UNAUTHENTICATED.</returns>
    public async ValueTask<(Caller? Caller, string? Error)> AuthenticateAsync(HttpContext http)
    {
        if (http.Features.Get<Caller>() is { } known)
        {
            return (known, null);
        }
        var result = await http.AuthenticateAsync(PartnerTokens.Scheme);
        if (result.Succeeded && http.Features.Get<Caller>() is { } caller)
        {
            return (caller, null);
        }
        if (result.None)
        {
            return (null, "The call carries no access token. Send metadata 'authorization: Bearer <token>' with a token from the identity service (locally: ./mesh token <partner>).");
        }
        var reason = result.Failure switch
        {
            // Failed by OnTokenValidated (claims, binding): its message is already the reason.
            AuthenticationFailureException e => e.Message,
            TokenLivesTooLongException e => e.Message,
            { } e => AccessTokenValidator.Reason(e),
            null => "The access token was refused.",
        };
        return (null, $"The access token was refused: {reason}");
    }
}
