using Ketenmesh.Security;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// OpenIddict signs, publishes and checks with the keys of our <see cref="SigningKeyStore"/> (generated at
/// first run into the data directory), read at each use, so a key rotated in while running signs the next
/// token and the key it replaced stays in the JWKS until every token it signed has expired.
/// OpenIddict's own signing-credential list is fixed at startup; it only gets the store's current key
/// so that its startup checks pass.
/// </summary>
internal static class SigningKeyHandlers
{
    public static readonly OpenIddictServerHandlerDescriptor[] All =
    [
        SignWithCurrentKey.Descriptor,
        PublishStoredKeys.Descriptor,
        ValidateWithStoredKeys.Descriptor,
    ];

    /// <summary>Every token is signed with the store's current key.</summary>
    public sealed class SignWithCurrentKey(SigningKeyStore keys) : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<SignWithCurrentKey>()
            .SetOrder(OpenIddictServerHandlers.Protection.AttachSecurityCredentials.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(GenerateTokenContext context)
        {
            context.SigningCredentials = keys.Current;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The JWKS is the store's published keys: public halves only, including recently retired ones.</summary>
    public sealed class PublishStoredKeys(SigningKeyStore keys) : IOpenIddictServerHandler<HandleJsonWebKeySetRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleJsonWebKeySetRequestContext>()
            .UseSingletonHandler<PublishStoredKeys>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachSigningKeys.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(HandleJsonWebKeySetRequestContext context)
        {
            context.Keys.Clear();
            context.Keys.AddRange(keys.Published);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Tokens this server issued (presented for introspection or revocation) are checked against the published keys.</summary>
    public sealed class ValidateWithStoredKeys(SigningKeyStore keys) : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .UseSingletonHandler<ValidateWithStoredKeys>()
            .SetOrder(OpenIddictServerHandlers.Protection.ResolveTokenValidationParameters.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            // Client assertions are signed by the clients' own keys, which OpenIddict finds per client.
            if (!context.ValidTokenTypes.Contains(OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.Private.ClientAssertion))
            {
                context.TokenValidationParameters.IssuerSigningKeys = keys.Published;
            }

            return ValueTask.CompletedTask;
        }
    }
}
