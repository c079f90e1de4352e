using Chain.Policy.V1;
using Grpc.Core;

namespace Ketenmesh.OfficerConsole.Grants;

/// <summary>
/// chain.policy.v1.SharingPolicyAdmin as the signed-in officer: every call carries their own access token,
/// kept in their session. The console holds no credential of its own.
/// </summary>
public sealed class PolicyAdmin(SharingPolicyAdmin.SharingPolicyAdminClient client, SessionToken token)
{
    public SharingPolicyAdmin.SharingPolicyAdminClient Client => client;

    /// <summary>Call options with the officer's token and a deadline.</summary>
    public Task<CallOptions> AsOfficerAsync() => token.CallOptionsAsync();

    public async Task<IReadOnlyList<GrantVersion>> ListAsync(string partnerId = "", Chain.Common.V1.Purpose purpose = Chain.Common.V1.Purpose.Unspecified) =>
        (await client.ListGrantsAsync(new ListGrantsRequest { PartnerId = partnerId, Purpose = purpose }, await AsOfficerAsync())).Versions;

    /// <summary>A grant's versions oldest first (by when each was drafted; the hash breaks a tie), so the last is the newest.</summary>
    public async Task<IReadOnlyList<GrantVersion>> HistoryAsync(string grantId) =>
        (await client.GetGrantAsync(new GetGrantRequest { GrantId = grantId }, await AsOfficerAsync())).Versions
            .OrderBy(v => v.DraftedAt?.ToDateTimeOffset()).ThenBy(v => v.VersionHash, StringComparer.Ordinal).ToList();

    /// <summary>What went wrong, in plain words for an officer (the service's own sentence, which already names the rule).</summary>
    public static string PlainWords(RpcException refusal) => OfficerConsole.PlainWords.Of(refusal, "the sharing-policy service", refusal.StatusCode switch
    {
        StatusCode.PermissionDenied => refusal.Status.Detail.StartsWith("Four eyes", StringComparison.Ordinal)
            ? "You drafted this version yourself: a second privacy officer must approve it."
            : "The sharing-policy service did not allow this: " + refusal.Status.Detail,
        StatusCode.Unauthenticated or StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown => null,
        _ => refusal.Status.Detail,
    });
}
