using System.Net;
using Ketenmesh.Hosting;
using Microsoft.Extensions.Configuration;

namespace Ketenmesh.Identity.Tests;

/// <summary>
/// The local profile runs as Development for its defaults, yet no endpoint shows a developer exception page:
/// a request that breaks something gets a bare error, with no stack trace, source path or echoed header.
/// </summary>
public sealed class ErrorPageTests : IAsyncDisposable
{
    readonly string _dataDirectory = Directory.CreateTempSubdirectory("ketenmesh-errors-").FullName;
    MeshApplication? _mesh;

    [Theory]
    [InlineData("a\u0000b")]
    [InlineData("\u0000")]
    [InlineData("police\u001b[2J")]
    public async Task A_client_id_with_control_characters_gets_an_oauth_error_without_a_stack_trace_or_echoed_headers(string clientId)
    {
        _mesh = MeshHost.Build(new IdentityComponent(), ["--environment", "Development"], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Service:Port"] = "0",
            ["Mesh:DataDirectory"] = _dataDirectory,
            ["Identity:LocalClients"] = "true",
            ["Identity:AllowClientSecrets"] = "true",
        }));
        await _mesh.App.StartAsync();
        using var http = new HttpClient { BaseAddress = _mesh.Addresses.Single(), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = "x" }),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Add("X-Echo-Probe", "probe-7f3a");

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{response.StatusCode}: {body}");
        Assert.Contains("\"error\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("probe-7f3a", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain(".cs:line", body, StringComparison.Ordinal);
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
