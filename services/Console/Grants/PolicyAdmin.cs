using Chain.Policy.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;

namespace Ketenmesh.OfficerConsole.Grants;

/// <summary>
/// chain.policy.v1.SharingPolicyAdmin as the signed-in officer: every call carries their own access token,
/// kept in their session. The console holds no credential of its own.
/// </summary>
public sealed class PolicyAdmin(SharingPolicyAdmin.SharingPolicyAdminClient client, IHttpContextAccessor http)
{
    public SharingPolicyAdmin.SharingPolicyAdminClient Client => client;

    /// <summary>Call options with the officer's token and a deadline.</summary>
    public async Task<CallOptions> AsOfficerAsync()
    {
        var context = http.HttpContext ?? throw new InvalidOperationException("The policy service is called for a signed-in officer only, within their request.");
        var token = await context.GetTokenAsync("access_token")
            ?? throw new InvalidOperationException("The officer's session holds no access token.");
        return new CallOptions(new Metadata { { "authorization", "Bearer " + token } }, DateTime.UtcNow.AddSeconds(15), context.RequestAborted);
    }

    public async Task<IReadOnlyList<GrantVersion>> ListAsync(string partnerId = "", Chain.Common.V1.Purpose purpose = Chain.Common.V1.Purpose.Unspecified) =>
        (await client.ListGrantsAsync(new ListGrantsRequest { PartnerId = partnerId, Purpose = purpose }, await AsOfficerAsync())).Versions;

    public async Task<IReadOnlyList<GrantVersion>> HistoryAsync(string grantId) =>
        (await client.GetGrantAsync(new GetGrantRequest { GrantId = grantId }, await AsOfficerAsync())).Versions;

    /// <summary>What went wrong, in plain words for an officer (the service's own sentence, which already names the rule).</summary>
    public static string PlainWords(RpcException refusal) => refusal.StatusCode switch
    {
        StatusCode.Unauthenticated => "Your session has ended. Sign in again.",
        StatusCode.PermissionDenied => refusal.Status.Detail.StartsWith("Four eyes", StringComparison.Ordinal)
            ? "You drafted this version yourself: a second privacy officer must approve it."
            : "The sharing-policy service did not allow this: " + refusal.Status.Detail,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => "The sharing-policy service cannot be reached right now. Try again in a moment.",
        StatusCode.Internal or StatusCode.Unknown => "Something went wrong in the sharing-policy service. Nothing was changed.",
        _ => refusal.Status.Detail,
    };
}
