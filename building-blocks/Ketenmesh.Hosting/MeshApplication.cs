using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Hosting;

/// <summary>A built mesh process and where each of its components listens.</summary>
public sealed record MeshApplication(WebApplication App, IReadOnlyDictionary<IMeshComponent, EndpointOptions> Endpoints)
{
    /// <summary>Runs until Ctrl-C or SIGTERM; prints each endpoint once every component listens.</summary>
    public async Task<int> RunAsync()
    {
        App.Lifetime.ApplicationStarted.Register(PrintEndpoints);
        // Taken now: a host that fails to start disposes its services before the exception reaches us.
        var log = App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Ketenmesh");
        try
        {
            await App.RunAsync();
            // Zero unless a component asked for another code (e.g. 75: restart me) before stopping.
            return Environment.ExitCode;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            // A port in use or a database that will not open: say so plainly, in one line, and exit non-zero.
            log.LogCritical("The mesh could not start: {Reason}", ex.Message);
            await Console.Error.WriteLineAsync($"The mesh could not start: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Actual listening addresses (differs from configuration when port 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses =>
        App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.Select(a => new Uri(a)).ToList() ?? [];

    private void PrintEndpoints()
    {
        foreach (var (component, endpoint) in Endpoints.OrderBy(e => e.Value.Port))
        {
            Console.WriteLine($"  {component.Name,-16} h2c://{endpoint.BindAddress}:{endpoint.Port}");
            if (endpoint.TlsPort is { } tls)
            {
                Console.WriteLine($"  {component.Name,-16} https://{endpoint.BindAddress}:{tls}");
            }
        }
        Console.WriteLine("Ready. Ctrl-C stops the mesh.");
    }
}
