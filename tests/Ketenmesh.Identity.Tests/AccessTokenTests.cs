using Ketenmesh.Security;
using Chain.Common.V1;
using Ketenmesh.Identity.Domain;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ketenmesh.Identity.Tests;

public sealed class AccessTokenTests : IDisposable
{
    readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"ketenmesh-keys-{Guid.NewGuid():N}.json");
    readonly IssuerOptions _options = new() { Issuer = "https://identity.test" };

    public void Dispose() => File.Delete(_keyFile);

    [Fact]
    public async Task Issued_token_is_an_rfc9068_access_token_that_validates_against_the_published_keys()
    {
        var keys = SigningKeyStore.OpenOrCreate(_keyFile, TimeProvider.System, IssuerOptions.MaxLifetime);
        var police = PartnerCatalog.Seeded.Find("police")!;
        var issued = new AccessTokenIssuer(keys, TimeProvider.System, _options).Issue(police, "police-system", police.Purposes);

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(issued.AccessToken, new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Audience,
            IssuerSigningKeys = keys.Published,
            ValidTypes = ["at+jwt"],
        });

        Assert.True(result.IsValid, result.Exception?.Message);
        var token = (JsonWebToken)result.SecurityToken;
        Assert.Equal("ES256", token.Alg);
        Assert.Equal("police", token.Subject);
        Assert.Equal("police-system", token.GetClaim("client_id").Value);
        Assert.Equal("signalling criminal_investigation", token.GetClaim("scope").Value);
        Assert.Equal("police", token.GetClaim("partner_type").Value);
        Assert.False(string.IsNullOrEmpty(token.Id));
        Assert.True(token.TryGetPayloadValue<long>("iat", out _));
        Assert.Equal(TimeSpan.FromMinutes(5), token.ValidTo - token.IssuedAt);
    }

    [Fact]
    public void A_token_lifetime_above_ten_minutes_is_refused()
    {
        var keys = SigningKeyStore.OpenOrCreate(_keyFile, TimeProvider.System, IssuerOptions.MaxLifetime);
        var issuer = new AccessTokenIssuer(keys, TimeProvider.System, new IssuerOptions { Issuer = "https://identity.test", Lifetime = TimeSpan.FromMinutes(11) });
        var rapporteur = PartnerCatalog.Seeded.Find("rapporteur")!;
        Assert.Throws<InvalidOperationException>(() => issuer.Issue(rapporteur, "rapporteur-system", rapporteur.Purposes));
    }

    [Fact]
    public void A_purpose_outside_the_partners_own_is_never_put_in_a_token()
    {
        var keys = SigningKeyStore.OpenOrCreate(_keyFile, TimeProvider.System, IssuerOptions.MaxLifetime);
        var issuer = new AccessTokenIssuer(keys, TimeProvider.System, _options);
        var care = PartnerCatalog.Seeded.Find("care")!;
        Assert.Throws<ArgumentException>(() => issuer.Issue(care, "care-system", new HashSet<Purpose> { Purpose.CriminalInvestigation }));
    }

    [Fact]
    public void A_certificate_thumbprint_binds_the_token_through_cnf()
    {
        var keys = SigningKeyStore.OpenOrCreate(_keyFile, TimeProvider.System, IssuerOptions.MaxLifetime);
        var ind = PartnerCatalog.Seeded.Find("ind")!;
        var issued = new AccessTokenIssuer(keys, TimeProvider.System, _options).Issue(ind, "ind-system", ind.Purposes, certificateThumbprint: "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2");
        var cnf = new JsonWebToken(issued.AccessToken).GetPayloadValue<Dictionary<string, object>>("cnf");
        Assert.Equal("bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2", cnf["x5t#S256"].ToString());
    }
}
