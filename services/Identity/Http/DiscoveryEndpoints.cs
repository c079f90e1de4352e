using Ketenmesh.Security;
using Ketenmesh.Policy;
using Ketenmesh.Identity.Domain;
using Microsoft.AspNetCore.Http;

namespace Ketenmesh.Identity.Http;

/// <summary>
/// What validators need to trust our tokens without being configured for us in particular: the
/// authorization server metadata (the OpenID discovery document's fields, RFC 8414) and the JWKS.
/// </summary>
static class DiscoveryEndpoints
{
    public const string ConfigurationPath = "/.well-known/openid-configuration";
    public const string JwksPath = "/.well-known/jwks.json";

    public static IResult Configuration(IssuerOptions options, IdentitySettings settings) => Results.Json(new Dictionary<string, object>
    {
        ["issuer"] = options.Issuer,
        ["token_endpoint"] = options.Issuer.TrimEnd('/') + TokenEndpoint.Path,
        ["jwks_uri"] = options.Issuer.TrimEnd('/') + JwksPath,
        ["grant_types_supported"] = new[] { "client_credentials" },
        ["token_endpoint_auth_methods_supported"] = settings.AllowClientSecrets
            ? new[] { "private_key_jwt", "client_secret_basic", "client_secret_post" }
            : new[] { "private_key_jwt" },
        ["token_endpoint_auth_signing_alg_values_supported"] = new[] { "ES256", "RS256", "PS256" },
        ["scopes_supported"] = Enum.GetValues<Chain.Common.V1.Purpose>().Where(p => p != Chain.Common.V1.Purpose.Unspecified).Select(PurposeNames.ToScope).ToArray(),
        ["response_types_supported"] = Array.Empty<string>(),
    });

    public static IResult Jwks(SigningKeyStore keys) => Results.Json(keys.JwksDocument());
}
