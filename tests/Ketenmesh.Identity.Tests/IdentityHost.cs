using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ketenmesh.Hosting;
using Microsoft.Extensions.Configuration;

namespace Ketenmesh.Identity.Tests;

/// <summary>The identity component hosted for real on a loopback port with a data directory of its own, used over h2c as the mesh's validators use it (HTTP/1.1 clients use its TLS port: see HttpsTests).</summary>
sealed class IdentityHost : IAsyncDisposable
{
    IdentityHost(MeshApplication mesh, string directory, HttpClient http)
    {
        Mesh = mesh;
        DataDirectory = directory;
        Http = http;
    }

    public MeshApplication Mesh { get; }

    public string DataDirectory { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => Mesh.App.Services;

    public Uri Address => Http.BaseAddress!;

    /// <param name="settings">Added to a data directory, port 0 and the issuer <c>https://identity.test</c> (an identifier, not where the test connects).</param>
    public static async Task<IdentityHost> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var directory = Directory.CreateTempSubdirectory("ketenmesh-identity-").FullName;
        var configuration = new Dictionary<string, string?>
        {
            ["Service:Port"] = "0",
            ["Mesh:DataDirectory"] = directory,
            ["Identity:Issuer"] = "https://identity.test",
        };
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }

        var mesh = MeshHost.Build(new IdentityComponent(), [], c => c.AddInMemoryCollection(configuration));
        await mesh.App.StartAsync();
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{mesh.Addresses.Single().Port}"), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        return new IdentityHost(mesh, directory, http);
    }

    public async Task<JsonElement> DiscoveryAsync() => await Http.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");

    public async Task<string> IssuerAsync() => (await DiscoveryAsync()).GetProperty("issuer").GetString()!;

    public async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, Dictionary<string, string> form)
    {
        using var response = await Http.PostAsync(path, new FormUrlEncodedContent(form));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(text.StartsWith('{'), $"{response.StatusCode}: {text}");
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public Task<(HttpStatusCode Status, JsonElement Body)> RequestTokenAsync(string assertion, string? scope = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = assertion,
        };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        return PostAsync("/connect/token", form);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Mesh.App.StopAsync();
        await Mesh.App.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }
}
