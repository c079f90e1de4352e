using System.Net.Http.Headers;
using System.Text.Json;
using Ketenmesh.Grpc;
using Ketenmesh.Identity.Domain;

namespace Ketenmesh.Mesh.Demo;

/// <summary>
/// A partner's system as the demo plays it: it gets its token from the identity service the way a
/// partner does (client credentials at the token endpoint; in the local profile with the development
/// client secret from the data directory) and calls the gateway with it and a declared purpose.
/// </summary>
public sealed class PartnerSession(string partnerId, string accessToken)
{
    public string PartnerId { get; } = partnerId;

    public static async Task<PartnerSession> SignInAsync(HttpClient http, Uri identity, string dataDirectory, string partnerId)
    {
        var partner = PartnerCatalog.Seeded.Find(partnerId) ?? throw new ArgumentException($"'{partnerId}' is not a seeded partner.");
        var clientId = LocalClients.ClientId(partner);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(identity, "/connect/token"))
        {
            // The identity service speaks HTTP/2 only (h2c locally): say so, or the client offers HTTP/1.1.
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        var credentials = $"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(LocalClients.LoadOrCreateSecret(dataDirectory, partner))}";
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials)));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The identity service refused {clientId}: {body}");
        }
        using var json = JsonDocument.Parse(body);
        return new PartnerSession(partnerId, json.RootElement.GetProperty("access_token").GetString()!);
    }

    /// <summary>Call options for one call under one declared purpose.</summary>
    public Grpc.Client.CallOptions For(string purpose) =>
        new(Headers: new Metadata { { "authorization", "Bearer " + accessToken }, { "x-purpose", purpose } });
}
