using Ketenmesh.Identity.Domain;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// A token request for a purpose the partner may not act for gets <c>invalid_scope</c> naming the purposes it
/// has (RFC 6749 §5.2), as soon as the client is authenticated. OpenIddict's own scope-permission check
/// comes after and stays as a second line, but it answers <c>invalid_request</c> without saying which.
/// </summary>
internal sealed class PartnerScopes(IOpenIddictApplicationManager applications, PartnerCatalog catalog) : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
        .AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
        .UseScopedHandler<PartnerScopes>()
        .SetOrder(OpenIddictServerHandlers.Exchange.ValidateAuthentication.Descriptor.Order + 1)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        if (!context.Request.IsClientCredentialsGrantType())
        {
            return;
        }

        var partner = await PartnerClients.PartnerOfAsync(applications, context.ClientId!, catalog);
        if (partner is null)
        {
            context.Reject(Errors.UnauthorizedClient, "This client is not registered for a partner of the chain, so it cannot get a partner token.");
            return;
        }

        if (ScopeRequest.Resolve(partner, context.Request.Scope, out var error) is null)
        {
            context.Reject(Errors.InvalidScope, error);
        }
    }
}
