using Ketenmesh.Identity.Domain;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// Where OpenIddict's answers differ from what our validators and partners rely on, and the RFCs allow ours.
/// Each handler is one such difference.
/// </summary>
internal static class ProtocolAdjustments
{
    public static readonly OpenIddictServerHandlerDescriptor[] All =
    [
        ExactIssuerInTokens.Descriptor,
        ExactIssuerInDiscovery.Descriptor,
        ExactIssuerInAuthorizationResponses.Descriptor,
        ScopeInEveryTokenResponse.Descriptor,
        MissingClientAuthentication.Descriptor,
        InvalidAssertionIsInvalidClient.Descriptor,
    ];

    /// <summary>
    /// <c>iss</c> is the configured issuer exactly (<c>http://127.0.0.1:8081</c>), as before; OpenIddict would write
    /// the URI's normalised form with a trailing slash, and validators compare strings.
    /// </summary>
    public sealed class ExactIssuerInTokens(IssuerOptions issuer) : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<ExactIssuerInTokens>()
            .SetOrder(OpenIddictServerHandlers.Protection.AttachTokenMetadata.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(GenerateTokenContext context)
        {
            if (context.SecurityTokenDescriptor.Issuer is { } written && written == new Uri(issuer.Issuer).AbsoluteUri)
            {
                context.SecurityTokenDescriptor.Issuer = issuer.Issuer;
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>RFC 8414 §3.3: the metadata's issuer is identical to the one the metadata address was made from.</summary>
    public sealed class ExactIssuerInDiscovery(IssuerOptions issuer) : IOpenIddictServerHandler<ApplyConfigurationResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyConfigurationResponseContext>()
            .UseSingletonHandler<ExactIssuerInDiscovery>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ApplyConfigurationResponseContext context)
        {
            if (context.Response.Error is null && context.Response.HasParameter(Metadata.Issuer))
            {
                context.Response[Metadata.Issuer] = issuer.Issuer;
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>RFC 9207: the <c>iss</c> of an authorization response is the issuer as discovery gives it.</summary>
    public sealed class ExactIssuerInAuthorizationResponses(IssuerOptions issuer) : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseSingletonHandler<ExactIssuerInAuthorizationResponses>()
            .SetOrder(OpenIddictServerHandlers.Authentication.AttachIssuer.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
        {
            // OpenIddict's own handler, next, leaves an iss that is already there.
            if (!string.IsNullOrEmpty(context.RedirectUri))
            {
                context.Response.Iss = issuer.Issuer;
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The token response always says which purposes the token carries (RFC 6749 §5.1 makes it optional when as asked).</summary>
    public sealed class ScopeInEveryTokenResponse : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<ScopeInEveryTokenResponse>()
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.IncludeAccessToken && string.IsNullOrEmpty(context.Response.Scope) && context.AccessTokenPrincipal is { } principal)
            {
                context.Response.Scope = string.Join(' ', principal.GetScopes());
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>RFC 6749 §5.2: a token request without client authentication is <c>invalid_client</c> (401), not <c>invalid_request</c>.</summary>
    public sealed class MissingClientAuthentication : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<MissingClientAuthentication>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateClientIdParameter.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            if (context.Request.IsClientCredentialsGrantType() && string.IsNullOrEmpty(context.Request.ClientAssertion)
                && string.IsNullOrEmpty(context.Request.ClientSecret) && context.Transaction.RemoteCertificate is null)
            {
                context.Reject(Errors.InvalidClient, "The request carries no client authentication.");
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// RFC 7523 §3.1: a client assertion that is not valid (wrong audience, expired, bad signature...) is
    /// <c>invalid_client</c>; OpenIddict passes on the token validation's own error (<c>invalid_token</c>).
    /// Wraps OpenIddict's handler and keeps its description.
    /// </summary>
    public sealed class InvalidAssertionIsInvalidClient(IOpenIddictServerDispatcher dispatcher) : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientAssertionValidated>()
            .UseScopedHandler<InvalidAssertionIsInvalidClient>()
            .SetOrder(OpenIddictServerHandlers.ValidateClientAssertion.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            await new OpenIddictServerHandlers.ValidateClientAssertion(dispatcher).HandleAsync(context);
            if (context.IsRejected && context.Error != Errors.InvalidClient)
            {
                context.Reject(Errors.InvalidClient, context.ErrorDescription, context.ErrorUri);
            }
        }
    }
}
