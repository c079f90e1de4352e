using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Ketenmesh.Grpc.Server;

/// <summary>
/// Lets one process serve several components, each on its own port, as if each were its own server:
/// services mapped in a port scope answer only there, and reflection there lists only them.
/// </summary>
public static class GrpcPortScope
{
    private static readonly ConditionalWeakTable<IEndpointRouteBuilder, StrongBox<int>> Ports = new();

    /// <param name="tlsPort">The component's TLS port, which answers the same endpoints.</param>
    public static IEndpointRouteBuilder MapGrpcPort(this IEndpointRouteBuilder endpoints, int port, int? tlsPort = null)
    {
        var group = endpoints.MapGroup(string.Empty).RequireHost(tlsPort is { } tls ? [$"*:{port}", $"*:{tls}"] : [$"*:{port}"]);
        Ports.Add(group, new StrongBox<int>(port));
        return group;
    }

    internal static int? PortOf(IEndpointRouteBuilder endpoints) =>
        Ports.TryGetValue(endpoints, out var port) ? port.Value : null;
}
