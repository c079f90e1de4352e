using System.Text.Json;
using Grpc.Core;
using Ketenmesh.Identity.Domain;

namespace Ketenmesh.Mesh.Demo;

/// <summary>
/// A partner's system as the demo plays it: it gets its token from the identity service the way a
/// partner does (client credentials at the token endpoint, authenticated with an assertion signed by
/// the partner's own key, RFC 7523 private_key_jwt; in the local profile that key is made at first use
/// in the data directory) and calls the gateway with it and a declared purpose. No client secret: the
/// real profile accepts none.
/// </summary>
public sealed class PartnerSession(string partnerId, string accessToken)
{
    public string PartnerId { get; } = partnerId;

    public static async Task<PartnerSession> SignInAsync(HttpClient http, Uri identity, string dataDirectory, string partnerId)
    {
        var partner = PartnerCatalog.Seeded.Find(partnerId) ?? throw new ArgumentException($"'{partnerId}' is not a seeded partner.");
        var clientId = LocalClients.ClientId(partner);
        var (issuer, tokenEndpoint) = await DiscoverAsync(http, identity);
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint)
        {
            // The identity service speaks HTTP/2 only (h2c locally): say so, or the client offers HTTP/1.1.
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                // The assertion's audience is the issuer (draft-ietf-oauth-rfc7523bis, what OpenIddict 7 takes).
                ["client_assertion"] = LocalClients.CreateAssertion(dataDirectory, partner, issuer),
            }),
        };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The identity service refused {clientId}: {body}");
        }
        using var json = JsonDocument.Parse(body);
        return new PartnerSession(partnerId, json.RootElement.GetProperty("access_token").GetString()!);
    }

    /// <summary>The issuer and its token endpoint as its discovery document names them (RFC 8414).</summary>
    private static async Task<(string Issuer, Uri TokenEndpoint)> DiscoverAsync(HttpClient http, Uri identity)
    {
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(new Uri(identity, "/.well-known/openid-configuration")));
        return (discovery.RootElement.GetProperty("issuer").GetString()!, new Uri(discovery.RootElement.GetProperty("token_endpoint").GetString()!));
    }

    /// <summary>Call options for one call under one declared purpose.</summary>
    public CallOptions For(string purpose) =>
        new(headers: new Metadata { { "authorization", "Bearer " + accessToken }, { "x-purpose", purpose } });
}
