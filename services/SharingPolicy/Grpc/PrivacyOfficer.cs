using Grpc.Core;
using Ketenmesh.Security;
using Microsoft.Extensions.Options;
using Ketenmesh.Domain;

namespace Ketenmesh.SharingPolicy.Grpc;

/// <summary>Section <c>SharingPolicy</c>.</summary>
public sealed class SharingPolicyOptions
{
    /// <summary>The token issuer privacy officers' tokens come from, found by discovery.</summary>
    public Uri Authority { get; set; } = new("http://127.0.0.1:8081");

    /// <summary>The <c>aud</c> the officers' tokens carry (the identity service's one audience).</summary>
    public string Audience { get; set; } = "ketenmesh-gateway";

    /// <summary>Publish the brief's default policy when nothing was ever published (local profile).</summary>
    public bool SeedDefault { get; set; } = true;
}

/// <summary>Every admin call needs a privacy officer: a valid token whose scope holds policy_admin. The officer is its subject.</summary>
public sealed class PrivacyOfficer(IOptions<SharingPolicyOptions> options, TimeProvider clock)
{
    public const string Scope = "policy_admin";

    private readonly AccessTokenValidator _validator = new(
        new AccessTokenValidationOptions { Authority = options.Value.Authority, Audience = options.Value.Audience },
        AuthorityHttp.For(options.Value.Authority),
        clock);

    public async Task<string> RequireAsync(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "Sharing policy is administered by privacy officers: send 'authorization: Bearer <token>' (locally: ./mesh token privacy-officer-1)."));
        }
        var validation = await _validator.ValidateAsync(header["Bearer ".Length..].Trim(), context.CancellationToken);
        if (validation.Principal is not { } principal)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"The access token was refused: {validation.Error}"));
        }
        if (!principal.Purposes.Contains(Scope))
        {
            throw new NotAllowed($"Only privacy officers (scope {Scope}) administer sharing policy; '{principal.PartnerId}' is not one.");
        }
        return principal.PartnerId;
    }
}
