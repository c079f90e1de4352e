using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Hosting;

/// <summary>
/// One component of the mesh (a service, the gateway, identity, sharing policy). The same component
/// runs as its own process (real profile, docker-compose, k8s) or beside the others in one process
/// (embedded profile); it never knows which.
/// </summary>
public interface IMeshComponent
{
    /// <summary>Short name used in configuration, logs and data file names, e.g. <c>signals</c>.</summary>
    string Name { get; }

    /// <summary>The h2c port it listens on unless configured otherwise (see README).</summary>
    int DefaultPort { get; }

    /// <param name="configuration">This component's view: the process configuration with its own overrides on top.</param>
    void AddServices(IServiceCollection services, IConfiguration configuration);

    /// <summary>Maps its gRPC services; health and reflection are mapped by the host.</summary>
    void MapEndpoints(IEndpointRouteBuilder endpoints);

    /// <summary>True when the component answers health and reflection itself (the gateway answers per caller).</summary>
    bool MapsOwnHealthAndReflection => false;

    /// <summary>
    /// The most connections it holds open at once unless configured otherwise (<c>Service:MaxConnections</c>).
    /// Beyond it a new connection is closed at once, so idle connections from anyone cannot use up the
    /// process's file descriptors (at 20,000 the process died) while the connections it already serves go on.
    /// </summary>
    int DefaultMaxConnections => 1_000;
}
