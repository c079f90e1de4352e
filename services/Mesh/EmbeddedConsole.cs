using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
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
        var data = Path.GetFullPath(EndpointOptions.DataDirectoryOf(root));
        // A password made by this start (the identity seeds them) is printed this once; later starts say where it is kept.
        var known = OfficerPasswords.Accounts.Where(account => File.Exists(OfficerPasswords.PathOf(data, account))).ToHashSet();
        mesh.App.Lifetime.ApplicationStarted.Register(() =>
        {
            System.Console.WriteLine($"  {"console",-16} http://{endpoint.BindAddress}:{endpoint.Port}  (open it in a browser: officers draft, approve and publish grants and read the audit trail; the Rapporteur's researchers read /Dashboard)");
            foreach (var account in OfficerPasswords.Accounts)
            {
                var file = OfficerPasswords.PathOf(data, account);
                if (!File.Exists(file))
                {
                    continue; // the identity made it at its first start; an operator removed it since (account remove)
                }
                System.Console.WriteLine(OfficerPasswords.Readable(data, account) is not { } password
                    ? $"    sign in as {account,-24} (added by an operator: its password was shown when it was added)"
                    : !known.Contains(account)
                        ? $"    sign in as {account,-24} password {password}  (shown this once; kept in {file})"
                        : $"    sign in as {account,-24} password in {file}");
            }
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
