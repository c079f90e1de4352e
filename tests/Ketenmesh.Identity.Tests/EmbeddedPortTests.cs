using System.Net;
using System.Net.Sockets;
using Ketenmesh.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Identity.Tests;

/// <summary>
/// In the embedded mesh all components share one pipeline; OpenIddict must answer on the identity's port
/// only, so another component's <c>/.well-known/jwks.json</c> (the gateway's transaction-token keys) stays its own.
/// </summary>
public sealed class EmbeddedPortTests : IAsyncLifetime
{
    readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-embedded-").FullName;
    readonly int _identityPort = FreePort();
    readonly int _otherPort = FreePort();
    MeshApplication _mesh = null!;

    public async Task InitializeAsync()
    {
        _mesh = MeshHost.BuildEmbedded([new IdentityComponent(), new OwnJwks()], [], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = _directory,
            ["Components:identity:Service:Port"] = _identityPort.ToString(),
            ["Components:other:Service:Port"] = _otherPort.ToString(),
        }));
        await _mesh.App.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _mesh.App.StopAsync();
        await _mesh.App.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    static HttpClient Client() => new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    [Fact]
    public async Task Another_components_jwks_path_is_answered_by_that_component()
    {
        using var http = Client();

        Assert.Equal(OwnJwks.Body, await http.GetStringAsync($"http://127.0.0.1:{_otherPort}/.well-known/jwks.json"));
        Assert.Contains("\"keys\"", await http.GetStringAsync($"http://127.0.0.1:{_identityPort}/.well-known/jwks.json"));
        Assert.NotEqual(OwnJwks.Body, await http.GetStringAsync($"http://127.0.0.1:{_identityPort}/.well-known/jwks.json"));
    }

    [Fact]
    public async Task The_token_endpoint_is_not_answered_on_another_components_port()
    {
        using var http = Client();

        using var response = await http.PostAsync($"http://127.0.0.1:{_otherPort}/connect/token", new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    sealed class OwnJwks : IMeshComponent
    {
        public const string Body = "{\"keys\":[\"the other component's own\"]}";

        public string Name => "other";

        public int DefaultPort => 0;

        public void AddServices(IServiceCollection services, IConfiguration configuration)
        {
        }

        public void MapEndpoints(IEndpointRouteBuilder endpoints) =>
            endpoints.MapGet("/.well-known/jwks.json", () => Results.Text(Body, "application/json"));
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
