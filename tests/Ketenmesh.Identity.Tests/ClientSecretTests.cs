using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
using Microsoft.Extensions.Configuration;

namespace Ketenmesh.Identity.Tests;

/// <summary>Client secrets: accepted in the local profile only, and only the right one.</summary>
public sealed class ClientSecretTests : IAsyncDisposable
{
    readonly string _dataDirectory = Directory.CreateTempSubdirectory("ketenmesh-secrets-").FullName;
    MeshApplication? _mesh;

    async Task<HttpClient> StartAsync(bool allowSecrets)
    {
        _mesh = MeshHost.Build(new IdentityComponent(), [], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:Port"] = "0",
            ["Mesh:DataDirectory"] = _dataDirectory,
            ["Identity:LocalClients"] = "true",
            ["Identity:AllowClientSecrets"] = allowSecrets.ToString(),
        }));
        await _mesh.App.StartAsync();
        return new HttpClient { BaseAddress = _mesh.Addresses.Single(), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    }

    string Secret(string partner) => LocalClients.LoadOrCreateSecret(_dataDirectory, PartnerCatalog.Seeded.Find(partner)!);

    static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, Dictionary<string, string> form, string? basic = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(form),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (basic is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
        }
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(text.StartsWith('{'), $"{response.StatusCode}: {text}");
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Local_profile_issues_a_token_for_a_client_secret_in_basic_auth_or_the_form()
    {
        using var http = await StartAsync(allowSecrets: true);
        var secret = Secret("care");

        var basic = await PostAsync(http, new() { ["grant_type"] = "client_credentials" }, $"care-local:{Uri.EscapeDataString(secret)}");
        var post = await PostAsync(http, new() { ["grant_type"] = "client_credentials", ["client_id"] = "care-local", ["client_secret"] = secret, ["scope"] = "victim_care" });
        var discovery = await http.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");

        Assert.Equal(HttpStatusCode.OK, basic.Status);
        Assert.Equal("signalling victim_care", basic.Body.GetProperty("scope").GetString());
        Assert.Equal(HttpStatusCode.OK, post.Status);
        Assert.Equal("victim_care", post.Body.GetProperty("scope").GetString());
        Assert.Contains("client_secret_basic", discovery.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task A_wrong_secret_or_another_clients_secret_is_refused()
    {
        using var http = await StartAsync(allowSecrets: true);

        var wrong = await PostAsync(http, new() { ["grant_type"] = "client_credentials", ["client_id"] = "care-local", ["client_secret"] = "guess" });
        var other = await PostAsync(http, new() { ["grant_type"] = "client_credentials", ["client_id"] = "police-local", ["client_secret"] = Secret("care") });

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (wrong.Status, wrong.Body.GetProperty("error").GetString()));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (other.Status, other.Body.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Outside_the_local_profile_client_secrets_are_refused_even_when_right()
    {
        using var http = await StartAsync(allowSecrets: false);

        var refused = await PostAsync(http, new() { ["grant_type"] = "client_credentials" }, $"care-local:{Secret("care")}");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Contains("private_key_jwt", refused.Body.GetProperty("error_description").GetString());
    }

    public async ValueTask DisposeAsync()
    {
        if (_mesh is not null)
        {
            await _mesh.App.StopAsync();
            await _mesh.App.DisposeAsync();
        }
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
