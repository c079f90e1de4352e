using System.Globalization;
using System.Reflection;
using Ketenmesh.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Bench;

/// <summary>
/// A gRPC service hosted exactly as each component of the mesh is when it runs as its own process
/// (<see cref="MeshHost.Build"/>): grpc-dotnet through AddChainGrpc (its refusal, request-validation and
/// caller-partner interceptors, health and reflection), call metrics, OpenTelemetry without an exporter,
/// Kestrel h2c with 1,000 streams per connection; the service mapped with MapGrpcService.
/// </summary>
public static class MeshHosted
{
    /// <summary>The grpc-dotnet version this build runs on, as its assembly says.</summary>
    public static string GrpcDotnetVersion { get; } =
        typeof(Grpc.AspNetCore.Server.GrpcServiceOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    public static async Task<Target> StartAsync<TService>(string name, string description)
        where TService : class
    {
        var mesh = MeshHost.Build(new Component<TService>(name), [], c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // A free port; and the load must not be measured writing log lines.
            ["Service:Port"] = 0.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        }));
        await mesh.App.StartAsync();
        return new Target(name, description, mesh.Addresses.First(), async () =>
        {
            await mesh.App.StopAsync();
            await mesh.App.DisposeAsync();
        });
    }

    private sealed class Component<TService>(string name) : IMeshComponent
        where TService : class
    {
        public string Name => name;

        public int DefaultPort => 0;

        public void AddServices(IServiceCollection services, IConfiguration configuration)
        {
        }

        public void MapEndpoints(IEndpointRouteBuilder endpoints) => endpoints.MapGrpcService<TService>();
    }
}
