using System.Collections.Concurrent;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Domain;

/// <summary>
/// A partner system registered to ask for tokens: its client id, partner and public key, and in the
/// local profile only, the SHA-256 of a client secret.
/// </summary>
public sealed record Client(string ClientId, Partner Partner, SecurityKey PublicKey, byte[]? SecretHash = null);

/// <summary>The registered clients; a client id unknown here cannot authenticate.</summary>
public sealed class ClientRegistry
{
    readonly ConcurrentDictionary<string, Client> _clients = new(StringComparer.Ordinal);

    public void Register(Client client) => _clients[client.ClientId] = client;

    public Client? Find(string clientId) => _clients.GetValueOrDefault(clientId);
}
