using Ketenmesh.Hosting.Deployment;

namespace Ketenmesh.Testing;

/// <summary>
/// Every component of <c>deploy/components.ini</c> as its own process, in table order, with the table's
/// environment: what <c>./mesh up --real</c> starts, on free ports and in a virtual host and databases of
/// the test's own.
/// </summary>
public sealed class RealMesh : IAsyncDisposable
{
    private readonly List<ComponentProcess> _processes = [];

    private RealMesh(RealProfile profile) => Profile = profile;

    public RealProfile Profile { get; }

    public IReadOnlyList<ComponentProcess> Processes => _processes;

    /// <summary>The shared data directory (identity's keys, the local partners' keys).</summary>
    public string DataDirectory => Profile.DataDirectory;

    public Uri Address(string component) => Profile.Addresses[component];

    public static async Task<RealMesh> StartAsync()
    {
        var mesh = new RealMesh(await RealProfile.CreateAsync());
        try
        {
            var table = DeploymentTable.Load();
            foreach (var component in table)
            {
                mesh.Profile.Addresses[component.Name] = RealProfile.AddressOf(component.Name, FreePorts.Next());
            }

            foreach (var component in table)
            {
                var (settings, _) = await mesh.Profile.ServiceAsync(component.Name, port: mesh.Profile.Addresses[component.Name].Port);
                var process = ComponentProcess.Start(component.Name, Path.GetFileNameWithoutExtension(component.Project) + ".dll", settings);
                mesh._processes.Add(process);
                // In order, as the script does: identity before those that read its discovery, and so on.
                await process.WaitForAsync();
            }

            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            process.Dispose();
        }

        await Profile.DisposeAsync();
    }
}
