using Ketenmesh.Identity.Domain;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Http;

/// <summary>
/// <c>POST /connect/token</c>: the client credentials grant (RFC 6749 §4.4) with private_key_jwt
/// client authentication (RFC 7523), and client secrets in the local profile only. Errors are the
/// RFC 6749 §5.2 JSON bodies.
/// </summary>
static class TokenEndpoint
{
    public const string Path = "/connect/token";

    public static async Task<IResult> HandleAsync(HttpContext http, ClientRegistry clients, ClientAssertionValidator assertions, AccessTokenIssuer issuer, IdentitySettings settings)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (!http.Request.HasFormContentType)
        {
            return Error("invalid_request", "Send the request as application/x-www-form-urlencoded.");
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (form["grant_type"] != "client_credentials")
        {
            return Error("unsupported_grant_type", "Only grant_type=client_credentials is supported.");
        }

        Client client;
        if (ClientSecretAuthentication.IsAttempted(http.Request, form))
        {
            var (secretClient, secretError) = ClientSecretAuthentication.Authenticate(http.Request, form, clients, settings);
            if (secretClient is null)
            {
                return Error("invalid_client", secretError!, StatusCodes.Status401Unauthorized);
            }
            client = secretClient;
        }
        else
        {
            if (form["client_assertion_type"] != ClientAssertionValidator.AssertionType || string.IsNullOrEmpty(form["client_assertion"]))
            {
                return Error("invalid_client", $"Authenticate with private_key_jwt: client_assertion_type={ClientAssertionValidator.AssertionType} and a client_assertion.", StatusCodes.Status401Unauthorized);
            }

            var claimedClientId = form["client_id"].ToString();
            var authentication = await assertions.ValidateAsync(form["client_assertion"]!, claimedClientId.Length == 0 ? null : claimedClientId, id => clients.Find(id)?.PublicKey);
            if (authentication.ClientId is null)
            {
                return Error("invalid_client", authentication.Error!, StatusCodes.Status401Unauthorized);
            }

            client = clients.Find(authentication.ClientId)!;
        }
        if (ScopeRequest.Resolve(client.Partner, form["scope"], out var scopeError) is not { } purposes)
        {
            return Error("invalid_scope", scopeError!);
        }

        // Sender-constrained when the client came with a TLS certificate: the token names it (RFC 8705 §3.1).
        var certificate = await http.Connection.GetClientCertificateAsync(http.RequestAborted);
        var thumbprint = certificate is null ? null : Base64UrlEncoder.Encode(SHA256.HashData(certificate.RawData));
        var token = issuer.Issue(client.Partner, client.ClientId, purposes, thumbprint);
        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = token.AccessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)token.ExpiresIn.TotalSeconds,
            ["scope"] = token.Scope,
        });
    }

    static IResult Error(string error, string description, int status = StatusCodes.Status400BadRequest) =>
        Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);
}
