using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// In the embedded mesh every component shares one ASP.NET Core pipeline, and OpenIddict matches its endpoints
/// by path on any port: without this, the gateway's own <c>/.well-known/jwks.json</c> (transaction tokens) would
/// be answered with the identity's keys. Requests that did not arrive on the identity's ports are left alone.
/// </summary>
internal sealed class IdentityPortOnly(IdentityPorts ports) : IOpenIddictServerHandler<ProcessRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
        .UseSingletonHandler<IdentityPortOnly>()
        .SetOrder(int.MinValue + 1_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        if (context.Transaction.GetHttpRequest() is { } request && !ports.Serves(request.HttpContext.Connection.LocalPort))
        {
            context.SkipRequest();
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>The identity's configured ports; none configured (port 0: a host of its own picks one) means every port.</summary>
internal sealed class IdentityPorts(params int[] ports)
{
    public bool Serves(int port) => ports.Length == 0 || ports.Contains(port);
}
