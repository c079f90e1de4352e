using Ketenmesh.Identity.Domain;

namespace Ketenmesh.Identity.Tests;

public sealed class ClientAssertionTests
{
    const string TokenEndpoint = "https://identity.test/connect/token";

    readonly PartnerSystem _police = new("police-system");
    readonly ClientAssertionValidator _validator = new(TokenEndpoint, TimeProvider.System);

    Task<ClientAuthentication> Validate(string assertion, string? clientId = null) =>
        _validator.ValidateAsync(assertion, clientId, id => id == _police.ClientId ? _police.PublicKey : null);

    [Fact]
    public async Task A_fresh_assertion_signed_by_the_clients_key_authenticates_it()
    {
        var result = await Validate(_police.Assertion(TokenEndpoint));
        Assert.Equal("police-system", result.ClientId);
    }

    [Fact]
    public async Task Replayed_private_key_jwt_assertion_is_refused()
    {
        var assertion = _police.Assertion(TokenEndpoint);
        Assert.NotNull((await Validate(assertion)).ClientId);
        var replay = await Validate(assertion);
        Assert.Null(replay.ClientId);
        Assert.Contains("already used", replay.Error);
    }

    [Fact]
    public async Task An_assertion_for_another_audience_is_refused()
    {
        var result = await Validate(_police.Assertion("https://elsewhere.test/token"));
        Assert.Null(result.ClientId);
        Assert.Contains("Audience", result.Error);
    }

    [Fact]
    public async Task An_expired_assertion_is_refused()
    {
        var result = await Validate(_police.Assertion(TokenEndpoint, lifetime: TimeSpan.FromMinutes(1), now: DateTime.UtcNow.AddMinutes(-3)));
        Assert.Null(result.ClientId);
        Assert.Contains("Expired", result.Error);
    }

    [Fact]
    public async Task An_assertion_valid_for_hours_is_refused_as_a_reusable_password()
    {
        var result = await Validate(_police.Assertion(TokenEndpoint, lifetime: TimeSpan.FromHours(2)));
        Assert.Null(result.ClientId);
        Assert.Contains("at most", result.Error);
    }

    [Fact]
    public async Task An_assertion_signed_with_another_key_is_refused()
    {
        var impostor = new PartnerSystem("police-system");
        var result = await Validate(impostor.Assertion(TokenEndpoint));
        Assert.Null(result.ClientId);
        Assert.Contains("Signature", result.Error);
    }

    [Fact]
    public async Task An_assertion_about_another_subject_or_from_an_unknown_client_is_refused()
    {
        Assert.Contains("sub", (await Validate(_police.Assertion(TokenEndpoint, subject: "riec-system"))).Error);
        Assert.Contains("Unknown client", (await Validate(new PartnerSystem("unknown-system").Assertion(TokenEndpoint))).Error);
        Assert.Contains("iss must be the client_id", (await Validate(_police.Assertion(TokenEndpoint), clientId: "riec-system")).Error);
        Assert.Contains("not a JWT", (await Validate("not-a-jwt")).Error);
    }
}
