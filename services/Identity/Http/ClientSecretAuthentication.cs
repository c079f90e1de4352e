using System.Security.Cryptography;
using System.Text;
using Ketenmesh.Identity.Domain;
using Microsoft.AspNetCore.Http;

namespace Ketenmesh.Identity.Http;

/// <summary>
/// client_secret_basic and client_secret_post (RFC 6749 §2.3.1), for the local profile only
/// (<c>Identity:AllowClientSecrets</c>). Secrets are compared by hash in constant time.
/// </summary>
static class ClientSecretAuthentication
{
    /// <summary>True when the request tries a client secret at all (header or form).</summary>
    public static bool IsAttempted(HttpRequest request, IFormCollection form) =>
        request.Headers.Authorization.ToString().StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || form.ContainsKey("client_secret");

    /// <returns>The authenticated client, or null with the reason for invalid_client.</returns>
    public static (Client? Client, string? Error) Authenticate(HttpRequest request, IFormCollection form, ClientRegistry clients, IdentitySettings settings)
    {
        if (!settings.AllowClientSecrets)
        {
            return (null, "Client secrets are accepted in the local profile only; authenticate with private_key_jwt (RFC 7523).");
        }
        if (!TryRead(request, form, out var clientId, out var secret))
        {
            return (null, "The client secret could not be read: send HTTP Basic with the URL-encoded client_id and secret, or client_id and client_secret in the form.");
        }
        var client = clients.Find(clientId);
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        // Compare even for an unknown client, so timing does not tell which client ids exist.
        var expected = client?.SecretHash ?? new byte[32];
        if (!CryptographicOperations.FixedTimeEquals(presented, expected) || client?.SecretHash is null)
        {
            return (null, "Unknown client or wrong client secret.");
        }
        return (client, null);
    }

    private static bool TryRead(HttpRequest request, IFormCollection form, out string clientId, out string secret)
    {
        clientId = secret = "";
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    return false;
                }
                // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
                clientId = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
                secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }
        clientId = form["client_id"].ToString();
        secret = form["client_secret"].ToString();
        return clientId.Length > 0 && secret.Length > 0;
    }
}
