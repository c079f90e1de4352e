using Chain.Policy.V1;
using Grpc.Core;
using Ketenmesh.SharingPolicy.Domain;

namespace Ketenmesh.SharingPolicy.Grpc;

/// <summary>chain.policy.v1.SharingPolicyAdmin: the privacy officers' API.</summary>
public sealed class SharingPolicyAdminService(PrivacyOfficer officers, PolicyAdministration administration) : SharingPolicyAdmin.SharingPolicyAdminBase
{
    public override async Task<DraftGrantResponse> DraftGrant(DraftGrantRequest request, ServerCallContext context) =>
        new() { Version = await administration.DraftAsync(request.Grant, await officers.RequireAsync(context), context.CancellationToken) };

    public override async Task<ApproveGrantResponse> ApproveGrant(ApproveGrantRequest request, ServerCallContext context) =>
        new() { Version = await administration.ApproveAsync(request.VersionHash, await officers.RequireAsync(context), context.CancellationToken) };

    public override async Task<RevokeGrantResponse> RevokeGrant(RevokeGrantRequest request, ServerCallContext context) =>
        new() { Version = await administration.RevokeAsync(request.GrantId, request.Reason, await officers.RequireAsync(context), context.CancellationToken) };

    public override async Task<GetGrantResponse> GetGrant(GetGrantRequest request, ServerCallContext context)
    {
        await officers.RequireAsync(context);
        return new GetGrantResponse { Versions = { await administration.HistoryAsync(request.GrantId, context.CancellationToken) } };
    }

    public override async Task<ListGrantsResponse> ListGrants(ListGrantsRequest request, ServerCallContext context)
    {
        await officers.RequireAsync(context);
        return new ListGrantsResponse { Versions = { await administration.ListAsync(request.PartnerId, request.Purpose, request.State, context.CancellationToken) } };
    }

    public override async Task<SimulateAccessResponse> SimulateAccess(SimulateAccessRequest request, ServerCallContext context)
    {
        await officers.RequireAsync(context);
        return await administration.SimulateAsync(request, context.CancellationToken);
    }

    public override async Task<PublishPolicyResponse> PublishPolicy(PublishPolicyRequest request, ServerCallContext context) =>
        new() { Snapshot = await administration.PublishAsync(await officers.RequireAsync(context), context.CancellationToken) };
}
