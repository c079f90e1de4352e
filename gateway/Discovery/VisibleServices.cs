using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Ketenmesh.Gateway.Access;
using Grpc.Core;
using Ketenmesh.Hosting.GrpcServer;

namespace Ketenmesh.Gateway.Discovery;

/// <summary>
/// What a caller may see through the gateway's health and reflection: only services with a method
/// that one of its grants (for a purpose its token carries) lets it call, and the gateway's own audit
/// trail, where every partner reads its own decisions. The rest does not exist for it. Each such call
/// costs the caller one permit on the gateway's own services (<see cref="OwnServiceGuard"/>).
/// </summary>
public sealed class VisibleServices(OwnServiceGuard guard, CurrentPolicy policy, TimeProvider clock) : IReflectionScope
{
    public async ValueTask<IReadOnlyList<ServiceDescriptor>> ServicesAsync(ServerCallContext context)
    {
        var caller = await guard.AuthenticateAsync(context);
        await guard.ChargeAsync(context, caller, 1);
        var now = clock.GetUtcNow();
        var current = policy.Value;
        var methods = current.Grants
            .Where(g => g.Grant.PartnerId == caller.PartnerId && caller.Purposes.Contains(g.Purpose) && g.InactiveReason(now) is null)
            .SelectMany(g => g.MethodNames)
            .ToHashSet(StringComparer.Ordinal);
        return current.Catalog.Services
            .Where(s => s.Methods.Any(m => methods.Contains(Policy.MethodCatalog.NameOf(m))))
            .Append(Own)
            .ToList();
    }

    /// <summary>Served by the gateway itself, so it is as healthy as the gateway answering.</summary>
    public static ServiceDescriptor Own { get; } = global::Chain.Audit.V1.AuditReflection.Descriptor.Services[0];
}
