using Ketenmesh.Security;
using Ketenmesh.Identity.Domain;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Tests;

/// <summary><c>./mesh token &lt;partner&gt;</c>: a developer's way to a real token for any seeded partner.</summary>
public sealed class TokenCommandTests : IDisposable
{
    readonly string _dataDirectory = Directory.CreateTempSubdirectory("ketenmesh-token-").FullName;

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);

    async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await TokenCommand.RunAsync([.. args, $"--Mesh:DataDirectory={_dataDirectory}"], output, error);
        return (exitCode, output.ToString().Trim(), error.ToString());
    }

    [Fact]
    public async Task Token_command_prints_a_token_that_validates_against_the_identity_keys_of_the_same_data_directory()
    {
        var (exitCode, token, _) = await RunAsync("comensha");
        Assert.Equal(0, exitCode);

        var keys = SigningKeyStore.OpenOrCreate(Path.Combine(_dataDirectory, "identity-keys.json"), TimeProvider.System, IssuerOptions.MaxLifetime);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "http://127.0.0.1:8081",
            ValidAudience = "ketenmesh-gateway",
            IssuerSigningKeys = keys.Published,
            ValidTypes = ["at+jwt"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal("comensha", jwt.Subject);
        Assert.Equal("comensha-local", jwt.GetClaim("client_id").Value);
        Assert.Equal("signalling victim_care", jwt.GetClaim("scope").Value);
    }

    [Fact]
    public async Task Token_command_narrows_to_the_scope_asked_for_and_refuses_one_the_partner_lacks()
    {
        var (_, token, _) = await RunAsync("police", "criminal_investigation");
        Assert.Equal("criminal_investigation", new JsonWebToken(token).GetClaim("scope").Value);

        var (exitCode, _, error) = await RunAsync("rapporteur", "criminal_investigation");
        Assert.Equal(2, exitCode);
        Assert.Contains("invalid_scope", error);
    }

    [Fact]
    public async Task Token_command_names_the_seeded_partners_when_it_does_not_know_one()
    {
        var (exitCode, output, error) = await RunAsync("interpol");
        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains("rapporteur", error);
    }
}
