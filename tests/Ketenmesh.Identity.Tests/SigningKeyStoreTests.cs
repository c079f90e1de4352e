using Ketenmesh.Security;
using Ketenmesh.Identity.Domain;

namespace Ketenmesh.Identity.Tests;

public sealed class SigningKeyStoreTests : IDisposable
{
    readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"ketenmesh-keys-{Guid.NewGuid():N}.json");
    readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => File.Delete(_keyFile);

    [Fact]
    public void Keys_are_generated_at_first_run_and_the_same_keys_are_used_after_a_restart()
    {
        Assert.False(File.Exists(_keyFile));
        var first = SigningKeyStore.OpenOrCreate(_keyFile, _clock, IssuerOptions.MaxLifetime);
        var again = SigningKeyStore.OpenOrCreate(_keyFile, _clock, IssuerOptions.MaxLifetime);

        Assert.Equal(first.Current.Key.KeyId, again.Current.Key.KeyId);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_keyFile));
        }
    }

    [Fact]
    public void The_jwks_holds_public_keys_only()
    {
        var keys = SigningKeyStore.OpenOrCreate(_keyFile, _clock, IssuerOptions.MaxLifetime);
        var published = Assert.Single(keys.Published);
        Assert.Equal("EC", published.Kty);
        Assert.Equal("P-256", published.Crv);
        Assert.Null(published.D);
        Assert.False(published.HasPrivateKey);
    }

    [Fact]
    public void A_rotated_out_key_stays_published_until_the_last_token_it_signed_has_expired()
    {
        var keys = SigningKeyStore.OpenOrCreate(_keyFile, _clock, IssuerOptions.MaxLifetime);
        var old = keys.Current.Key.KeyId;

        var next = keys.Rotate();
        Assert.Equal(next, keys.Current.Key.KeyId);
        Assert.Equal([old, next], keys.Published.Select(k => k.Kid));

        _clock.Advance(IssuerOptions.MaxLifetime - TimeSpan.FromSeconds(1));
        Assert.Contains(old, keys.Published.Select(k => k.Kid));

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal([next], keys.Published.Select(k => k.Kid));
        Assert.Equal([next], SigningKeyStore.OpenOrCreate(_keyFile, _clock, IssuerOptions.MaxLifetime).Published.Select(k => k.Kid));
    }
}
