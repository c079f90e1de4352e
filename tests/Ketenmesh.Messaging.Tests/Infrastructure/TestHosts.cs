using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Messaging.Tests.Infrastructure;

/// <summary>Builds a service host the way Program.cs would, from settings and component registrations.</summary>
static class TestHosts
{
    public static async Task<IHost> StartAsync(
        ITestOutputHelper output,
        string name,
        IEnumerable<KeyValuePair<string, string?>> settings,
        params Action<IServiceCollection, IConfiguration>[] components)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = name });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output, name));
        foreach (var component in components)
        {
            component(builder.Services, builder.Configuration);
        }

        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return host;
    }

    public static async Task ShutdownAsync(this IHost host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StopAsync(timeout.Token);
        host.Dispose();
    }

    public static Dictionary<string, string?> Merge(params IEnumerable<KeyValuePair<string, string?>>[] parts)
    {
        var merged = new Dictionary<string, string?>();
        foreach (var part in parts)
        {
            foreach (var (key, value) in part)
            {
                merged[key] = value;
            }
        }

        return merged;
    }

    /// <summary>Polls until the condition holds; returns false on timeout so the test can report what it saw.</summary>
    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(50));
        }

        return await condition();
    }
}
