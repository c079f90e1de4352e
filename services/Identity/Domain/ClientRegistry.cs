using System.Collections.Concurrent;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Domain;

/// <summary>A partner system registered to ask for tokens: its client id, partner and public key.</summary>
public sealed record Client(string ClientId, Partner Partner, SecurityKey PublicKey);

/// <summary>The registered clients; a client id unknown here cannot authenticate.</summary>
public sealed class ClientRegistry
{
    readonly ConcurrentDictionary<string, Client> _clients = new(StringComparer.Ordinal);

    public void Register(Client client) => _clients[client.ClientId] = client;

    public Client? Find(string clientId) => _clients.GetValueOrDefault(clientId);
}
