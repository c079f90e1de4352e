using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Tests;

/// <summary>A setting the gateway cannot work with stops it at start, not at the moment it is first needed.</summary>
public sealed class GatewayOptionsTests
{
    static GatewayOptions Resolve(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var services = new ServiceCollection();
        new GatewayComponent().AddServices(services, configuration);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<GatewayOptions>>().Value;
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("00:01:00")]
    public void A_stream_end_grace_below_zero_or_past_the_shutdown_timeout_is_refused(string grace)
    {
        var refused = Assert.Throws<OptionsValidationException>(() => Resolve("Gateway:StreamEndGrace", grace));
        Assert.Contains("Gateway:StreamEndGrace", refused.Message);
    }

    [Fact]
    public void A_stream_end_grace_of_zero_is_taken()
    {
        Assert.Equal(TimeSpan.Zero, Resolve("Gateway:StreamEndGrace", "00:00:00").StreamEndGrace);
    }

    [Fact]
    public void A_token_lifetime_past_the_chains_ceiling_is_refused()
    {
        var refused = Assert.Throws<OptionsValidationException>(() => Resolve("Gateway:MaxTokenLifetime", "01:00:00"));
        Assert.Contains("Gateway:MaxTokenLifetime", refused.Message);
    }
}
