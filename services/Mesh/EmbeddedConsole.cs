using Ketenmesh.Hosting;
using Ketenmesh.OfficerConsole;
using Microsoft.Extensions.Configuration;

namespace Ketenmesh.Mesh;

/// <summary>
/// The console inside the embedded mesh's process: its own web application (HTTP/1.1, its own sign-in) beside
/// the gRPC components' one, configured from the same configuration (<c>Components:console</c> on top),
/// started before them and stopped after them.
/// </summary>
public static class EmbeddedConsole
{
    public static async Task<int> RunAsync(MeshApplication mesh)
    {
        var root = mesh.App.Configuration;
        var view = new ConfigurationBuilder()
            .AddConfiguration(root)
            .AddInMemoryCollection(root.GetSection($"Components:{MeshComponents.Console.Name}").AsEnumerable(makePathsRelative: true).Where(p => p.Value is not null))
            .Build();
        await using var console = ConsoleHost.Build([], view);
        var endpoint = EndpointOptions.For(MeshComponents.Console, view);
        var officers = Path.GetFullPath(Path.Combine(EndpointOptions.DataDirectoryOf(root), "officers"));
        mesh.App.Lifetime.ApplicationStarted.Register(() =>
        {
            System.Console.WriteLine($"  {"console",-16} http://{endpoint.BindAddress}:{endpoint.Port}  (privacy officers: open it in a browser)");
            System.Console.WriteLine($"  Sign in to the console as privacy-officer-1 or privacy-officer-2; the passwords are in {officers}/<officer>.password");
            System.Console.WriteLine($"  The Rapporteur's statistics (/Dashboard): rapporteur-researcher-1, password in {Path.Combine(Path.GetDirectoryName(officers)!, "researchers")}/rapporteur-researcher-1.password");
        });
        try
        {
            await console.StartAsync();
        }
        catch (IOException ex)
        {
            await System.Console.Error.WriteLineAsync($"The mesh could not start: the console: {ex.Message}");
            return 1;
        }

        try
        {
            return await mesh.RunAsync();
        }
        finally
        {
            await console.StopAsync();
        }
    }
}
