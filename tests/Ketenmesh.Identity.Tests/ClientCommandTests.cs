using System.Net;
using System.Text.Json;
using Ketenmesh.Identity.Domain;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Tests;

/// <summary>
/// Where no local clients are seeded (compose, Kubernetes), an operator registers a partner's system with
/// <c>Ketenmesh.Identity client</c> against the running identity's database, and it applies at once.
/// </summary>
public sealed class ClientCommandTests : IAsyncLifetime
{
    readonly PartnerSystem _police = new("police-prod");
    IdentityHost _identity = null!;
    string _issuer = null!;

    public async Task InitializeAsync()
    {
        _identity = await IdentityHost.StartAsync(new() { ["Identity:LocalClients"] = "false" });
        _issuer = await _identity.IssuerAsync();
    }

    public async Task DisposeAsync() => await _identity.DisposeAsync();

    async Task<(int Code, string Output, string Error)> RunAsync(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await ClientCommand.RunAsync([.. args, $"--Mesh:DataDirectory={_identity.DataDirectory}"], new StringReader(stdin), output, error);
        return (code, output.ToString(), error.ToString());
    }

    async Task<HttpStatusCode> TokenStatusAsync() => (await _identity.RequestTokenAsync(_police.Assertion(_issuer), "criminal_investigation")).Status;

    [Fact]
    public async Task A_system_registered_from_the_command_line_gets_tokens_at_once_and_none_once_removed()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync());

        var registered = await RunAsync(JsonSerializer.Serialize(_police.KeySet), "register", "police", "police-prod", "-");
        Assert.Equal((0, ""), (registered.Code, registered.Error));
        Assert.Contains("police-prod: a system of police", registered.Output);
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync());
        Assert.Contains("police-prod\tpolice", (await RunAsync("", "list")).Output);

        Assert.Equal(0, (await RunAsync("", "remove", "police-prod")).Code);
        // The identity reads its clients from the database on every request: no cached copy lets the system in.
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync());
    }

    [Fact]
    public async Task A_jwks_holding_a_private_key_is_refused_and_nothing_is_registered()
    {
        var key = new ECDsaSecurityKey(System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256)) { KeyId = "k" };
        var withPrivate = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(key);
        var jwks = JsonSerializer.Serialize(new { keys = new[] { new { withPrivate.Kty, withPrivate.Crv, withPrivate.X, withPrivate.Y, withPrivate.D, withPrivate.Kid } } }, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase });
        Assert.Contains("\"d\":", jwks);

        var refused = await RunAsync(jwks, "register", "police", "police-prod", "-");

        Assert.Equal(2, refused.Code);
        Assert.Contains("private or symmetric key", refused.Error);
        Assert.DoesNotContain("police-prod", (await RunAsync("", "list")).Output);
    }

    [Fact]
    public async Task An_unknown_partner_the_identitys_own_clients_and_another_partners_system_are_refused()
    {
        var keys = JsonSerializer.Serialize(_police.KeySet);
        Assert.Equal(2, (await RunAsync(keys, "register", "nobody", "nobody-prod", "-")).Code);
        Assert.Equal(2, (await RunAsync(keys, "register", "police", OfficerConsole.ComponentClientId, "-")).Code);
        Assert.Equal(2, (await RunAsync("", "remove", OfficerConsole.ComponentClientId)).Code);

        Assert.Equal(0, (await RunAsync(keys, "register", "police", "police-prod", "-")).Code);
        var taken = await RunAsync(keys, "register", "kmar", "police-prod", "-");
        Assert.Equal(2, taken.Code);
        Assert.Contains("for police", taken.Error);
    }
}
