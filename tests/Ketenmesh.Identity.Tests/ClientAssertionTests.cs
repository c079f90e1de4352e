using System.Net;

namespace Ketenmesh.Identity.Tests;

/// <summary>
/// private_key_jwt (RFC 7523) at the token endpoint: OpenIddict checks the assertion, and our handler
/// refuses a replay. Every refusal is <c>invalid_client</c> (401) or a 400 naming the malformed part.
/// </summary>
public sealed class ClientAssertionTests : IAsyncLifetime
{
    readonly PartnerSystem _police = new("police-system");
    IdentityHost _identity = null!;
    string _issuer = null!;

    public async Task InitializeAsync()
    {
        _identity = await IdentityHost.StartAsync();
        await _police.RegisterAsync(_identity.Services, "police");
        _issuer = await _identity.IssuerAsync();
    }

    public async Task DisposeAsync() => await _identity.DisposeAsync();

    async Task<(HttpStatusCode Status, string? Error, string? Description)> Token(string assertion)
    {
        var (status, body) = await _identity.RequestTokenAsync(assertion);
        return (status, body.TryGetProperty("error", out var error) ? error.GetString() : null,
            body.TryGetProperty("error_description", out var description) ? description.GetString() : null);
    }

    static void Refused((HttpStatusCode Status, string? Error, string? Description) result, string error = "invalid_client")
    {
        Assert.NotEqual(HttpStatusCode.OK, result.Status);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public async Task A_fresh_assertion_signed_by_the_clients_key_authenticates_it()
    {
        Assert.Equal(HttpStatusCode.OK, (await Token(_police.Assertion(_issuer))).Status);
    }

    [Fact]
    public async Task Replayed_private_key_jwt_assertion_is_refused()
    {
        var assertion = _police.Assertion(_issuer);
        Assert.Equal(HttpStatusCode.OK, (await Token(assertion)).Status);
        var replay = await Token(assertion);
        Refused(replay);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.Status);
        Assert.Contains("jti", replay.Description);
    }

    [Fact]
    public async Task A_replay_is_refused_even_by_a_new_instance_on_the_same_database()
    {
        var assertion = _police.Assertion(_issuer);
        Assert.Equal(HttpStatusCode.OK, (await Token(assertion)).Status);

        await using var replica = await IdentityHost.StartAsync(new()
        {
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(_identity.DataDirectory, "identity.db")}",
            ["Identity:KeyFile"] = Path.Combine(_identity.DataDirectory, "identity-keys.json"),
        });
        var (status, body) = await replica.RequestTokenAsync(assertion);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Two_assertions_with_the_same_jti_are_one_assertion()
    {
        var jti = Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.OK, (await Token(_police.Assertion(_issuer, jti: jti))).Status);
        Refused(await Token(_police.Assertion(_issuer, jti: jti)));
    }

    [Fact]
    public async Task An_assertion_for_another_audience_is_refused()
    {
        Refused(await Token(_police.Assertion("https://elsewhere.test/")));
        // RFC 7523 allowed the token endpoint's address as aud; OpenIddict 7 (rfc7523bis) takes the issuer only.
        Refused(await Token(_police.Assertion(_issuer.TrimEnd('/') + "/connect/token")));
    }

    [Fact]
    public async Task An_expired_assertion_is_refused()
    {
        Refused(await Token(_police.Assertion(_issuer, lifetime: TimeSpan.FromMinutes(1), now: DateTime.UtcNow.AddMinutes(-10))));
    }

    [Fact]
    public async Task An_assertion_valid_for_hours_is_refused_as_a_reusable_password()
    {
        var result = await Token(_police.Assertion(_issuer, lifetime: TimeSpan.FromHours(2)));
        Refused(result);
        Assert.Contains("at most", result.Description);
    }

    [Fact]
    public async Task An_assertion_signed_with_another_key_is_refused()
    {
        Refused(await Token(new PartnerSystem("police-system").Assertion(_issuer)));
    }

    [Fact]
    public async Task An_assertion_without_the_client_authentication_type_is_refused()
    {
        Refused(await Token(_police.Assertion(_issuer, type: "JWT")));
    }

    [Fact]
    public async Task An_assertion_about_another_subject_or_from_an_unknown_client_is_refused()
    {
        Assert.NotEqual(HttpStatusCode.OK, (await Token(_police.Assertion(_issuer, subject: "riec-system"))).Status);
        Refused(await Token(new PartnerSystem("unknown-system").Assertion(_issuer)));
        Assert.NotEqual(HttpStatusCode.OK, (await Token("not-a-jwt")).Status);
    }
}
