using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// Tells a partner's developer how to authenticate when the token endpoint answers <c>invalid_client</c>:
/// OpenIddict's descriptions name what failed, not what to send instead.
/// </summary>
internal sealed class ClientAuthenticationAdvice(IdentitySettings settings) : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public const string Advice = "Authenticate with private_key_jwt (RFC 7523): client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer and a client_assertion signed with your registered key, header typ client-authentication+jwt, iss = sub = your client_id, aud = the issuer, a jti used once, exp at most 5 minutes ahead.";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
        .UseSingletonHandler<ClientAuthenticationAdvice>()
        .SetOrder(int.MinValue + 100_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        if (context.Response.Error == Errors.InvalidClient)
        {
            var secrets = settings.AllowClientSecrets ? " (Client secrets are accepted in this local profile too.)" : " (Client secrets are accepted in the local profile only.)";
            context.Response.ErrorDescription = $"{context.Response.ErrorDescription} {Advice}{secrets}".Trim();
        }

        return ValueTask.CompletedTask;
    }
}
