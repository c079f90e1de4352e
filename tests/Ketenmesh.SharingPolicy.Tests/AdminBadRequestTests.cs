using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Client;
using StatusCode = Ketenmesh.Grpc.StatusCode;

namespace Ketenmesh.SharingPolicy.Tests;

/// <summary>Every admin method refuses bad input with a status and field violations an officer can act on.</summary>
public sealed class AdminBadRequestTests : IAsyncLifetime
{
    private PolicyMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await PolicyMesh.StartAsync("Sqlite");

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Calls_without_a_token_or_with_a_partner_token_are_refused_on_every_method()
    {
        foreach (var method in PolicyReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("SharingPolicyAdmin").Methods)
        {
            var none = await Assert.ThrowsAsync<RpcException>(() => Call(method.Name, new CallOptions()));
            var partner = await Assert.ThrowsAsync<RpcException>(() => Call(method.Name, _mesh.As("police")));
            Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
            Assert.Equal(StatusCode.PermissionDenied, partner.StatusCode);
        }
    }

    [Fact]
    public async Task Draft_lists_every_problem_of_the_grant()
    {
        var missing = await Refused<DraftGrantRequest, DraftGrantResponse>("DraftGrant", new());
        var bad = await Refused<DraftGrantRequest, DraftGrantResponse>("DraftGrant", new()
        {
            Grant = new Grant
            {
                GrantId = "x",
                Purpose = Purpose.Statistics,
                ValidFrom = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
                Methods = { new MethodRule { Method = "chain.registry.v1.VictimRegistry/GetRegistration", ResponseMask = new FieldMask { Paths = { "registration.secret" } } } },
            },
        });

        Assert.Equal(StatusCode.InvalidArgument, missing.Code);
        Assert.Equal(["grant"], missing.Fields);
        Assert.Equal(StatusCode.InvalidArgument, bad.Code);
        Assert.Equal(["grant.partner_id", "grant.legal_basis", "grant.methods[0].method", "grant.methods[0].response_mask"], bad.Fields);
    }

    [Fact]
    public async Task Approve_refuses_a_missing_unknown_or_already_approved_version()
    {
        var draft = (await _mesh.AdminAsync<DraftGrantRequest, DraftGrantResponse>("DraftGrant", new() { Grant = Valid() }, _mesh.As("privacy-officer-1"))).Version;
        await _mesh.AdminAsync<ApproveGrantRequest, ApproveGrantResponse>("ApproveGrant", new() { VersionHash = draft.VersionHash }, _mesh.As("privacy-officer-2"));

        Assert.Equal(StatusCode.InvalidArgument, (await Refused<ApproveGrantRequest, ApproveGrantResponse>("ApproveGrant", new())).Code);
        Assert.Equal(StatusCode.NotFound, (await Refused<ApproveGrantRequest, ApproveGrantResponse>("ApproveGrant", new() { VersionHash = new string('0', 64) })).Code);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused<ApproveGrantRequest, ApproveGrantResponse>("ApproveGrant", new() { VersionHash = draft.VersionHash }, "privacy-officer-2")).Code);
    }

    [Fact]
    public async Task Revoke_refuses_missing_fields_unknown_grants_and_grants_with_nothing_to_revoke()
    {
        var missing = await Refused<RevokeGrantRequest, RevokeGrantResponse>("RevokeGrant", new());
        await _mesh.AdminAsync<DraftGrantRequest, DraftGrantResponse>("DraftGrant", new() { Grant = Valid() }, _mesh.As("privacy-officer-1"));

        Assert.Equal(StatusCode.InvalidArgument, missing.Code);
        Assert.Equal(["grant_id", "reason"], missing.Fields);
        Assert.Equal(StatusCode.NotFound, (await Refused<RevokeGrantRequest, RevokeGrantResponse>("RevokeGrant", new() { GrantId = "nope", Reason = "r" })).Code);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused<RevokeGrantRequest, RevokeGrantResponse>("RevokeGrant", new() { GrantId = "care-waiting-list", Reason = "r" })).Code);
    }

    [Fact]
    public async Task Get_list_and_simulate_refuse_what_they_cannot_answer()
    {
        Assert.Equal(StatusCode.InvalidArgument, (await Refused<GetGrantRequest, GetGrantResponse>("GetGrant", new())).Code);
        Assert.Equal(StatusCode.NotFound, (await Refused<GetGrantRequest, GetGrantResponse>("GetGrant", new() { GrantId = "nope" })).Code);
        Assert.Equal(StatusCode.InvalidArgument, (await Refused<ListGrantsRequest, ListGrantsResponse>("ListGrants", new() { Purpose = (Purpose)99 })).Code);
        var simulate = await Refused<SimulateAccessRequest, SimulateAccessResponse>("SimulateAccess", new());
        Assert.Equal(StatusCode.InvalidArgument, simulate.Code);
        Assert.Equal(["partner_id", "purpose", "method"], simulate.Fields);
        Assert.Equal(StatusCode.NotFound, (await Refused<SimulateAccessRequest, SimulateAccessResponse>("SimulateAccess",
            new() { PartnerId = "care", Purpose = Purpose.VictimCare, Method = "chain.shelter.v1.ShelterCapacity/ListShelters", CandidateVersionHash = "00" })).Code);
    }

    private static Grant Valid() => new()
    {
        GrantId = "care-waiting-list",
        PartnerId = "care",
        Purpose = Purpose.VictimCare,
        LegalBasis = "AVG art. 6(1)(e)",
        ValidFrom = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        Methods = { new MethodRule { Method = "chain.shelter.v1.ShelterCapacity/ListWaitingList", ResponseMask = new FieldMask { Paths = { "*" } } } },
    };

    private Task Call(string method, CallOptions options) => method switch
    {
        "DraftGrant" => _mesh.AdminAsync<DraftGrantRequest, DraftGrantResponse>(method, new() { Grant = Valid() }, options),
        "ApproveGrant" => _mesh.AdminAsync<ApproveGrantRequest, ApproveGrantResponse>(method, new() { VersionHash = "x" }, options),
        "RevokeGrant" => _mesh.AdminAsync<RevokeGrantRequest, RevokeGrantResponse>(method, new() { GrantId = "x", Reason = "r" }, options),
        "GetGrant" => _mesh.AdminAsync<GetGrantRequest, GetGrantResponse>(method, new() { GrantId = "x" }, options),
        "ListGrants" => _mesh.AdminAsync<ListGrantsRequest, ListGrantsResponse>(method, new(), options),
        "SimulateAccess" => _mesh.AdminAsync<SimulateAccessRequest, SimulateAccessResponse>(method, new(), options),
        "PublishPolicy" => _mesh.AdminAsync<PublishPolicyRequest, PublishPolicyResponse>(method, new(), options),
        _ => throw new InvalidOperationException($"No test call for {method}: add one."),
    };

    private async Task<(StatusCode Code, List<string> Fields)> Refused<TRequest, TResponse>(string method, TRequest request, string officer = "privacy-officer-1")
        where TRequest : class, Google.Protobuf.IMessage<TRequest>, new()
        where TResponse : class, Google.Protobuf.IMessage<TResponse>, new()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _mesh.AdminAsync<TRequest, TResponse>(method, request, _mesh.As(officer)));
        var fields = error.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(v => v.Field).ToList() ?? [];
        return (error.StatusCode, fields);
    }
}
