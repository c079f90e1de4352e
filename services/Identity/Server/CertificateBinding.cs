using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// A TLS client certificate that comes with another client credential (a private_key_jwt assertion or, in the
/// local profile, a secret) is not a credential here: the token is only bound to it (RFC 8705 §3, cnf x5t#S256),
/// so partners may bind tokens to any certificate they hold, self-signed included. OpenIddict would instead
/// check every presented certificate as client authentication; it still does when the certificate is the
/// only credential (self_signed_tls_client_auth, RFC 8705 §2.2).
/// </summary>
internal sealed class CertificateBinding(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
        .AddFilter<OpenIddictServerHandlerFilters.RequireClientCertificate>()
        .UseScopedHandler<CertificateBinding>()
        .SetOrder(OpenIddictServerHandlers.ValidateClientCertificate.Descriptor.Order)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (context.ClientAssertionPrincipal is not null || !string.IsNullOrEmpty(context.ClientSecret))
        {
            return ValueTask.CompletedTask;
        }

        return new OpenIddictServerHandlers.ValidateClientCertificate(applications).HandleAsync(context);
    }
}
