using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using StatusCode = Grpc.Core.StatusCode;

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
        foreach (var method in SharingPolicyAdmin.Descriptor.Methods)
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
        var missing = await Refused(options => _mesh.Admin.DraftGrantAsync(new(), options));
        var bad = await Refused(options => _mesh.Admin.DraftGrantAsync(new()
        {
            Grant = new Grant
            {
                GrantId = "x",
                Purpose = Purpose.Statistics,
                ValidFrom = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
                Methods = { new MethodRule { Method = "chain.registry.v1.VictimRegistry/GetRegistration", ResponseMask = new FieldMask { Paths = { "registration.secret" } } } },
            },
        }, options));

        Assert.Equal(StatusCode.InvalidArgument, missing.Code);
        Assert.Equal(["grant"], missing.Fields);
        Assert.Equal(StatusCode.InvalidArgument, bad.Code);
        Assert.Equal(["grant.partner_id", "grant.legal_basis", "grant.methods[0].method", "grant.methods[0].response_mask"], bad.Fields);
    }

    [Fact]
    public async Task Draft_is_refused_when_a_writes_answer_would_show_more_of_a_registration_than_the_partners_reads()
    {
        // The seeded ind-residence grant lets the IND read a few fields of a registration; a second grant
        // whose write answers with the whole registration would be a read of the rest by another route.
        Grant Ind(string id, string method, params string[] mask) => new()
        {
            GrantId = id,
            PartnerId = "ind",
            Purpose = Purpose.Residence,
            LegalBasis = "Vreemdelingenwet 2000",
            ValidFrom = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)),
            Methods = { new MethodRule { Method = method, ResponseMask = new FieldMask { Paths = { mask } } } },
        };
        var wide = Ind("ind-residence-extra", "chain.registry.v1.VictimRegistry/RecordResidenceStatus", "*");
        var narrowRead = Ind("ind-residence", "chain.registry.v1.VictimRegistry/GetRegistration", "registration.status");
        narrowRead.Methods.Add(new MethodRule { Method = "chain.registry.v1.VictimRegistry/RecordResidenceStatus", ResponseMask = new FieldMask { Paths = { "registration.residence" } } });
        var within = Ind("ind-residence-extra", "chain.registry.v1.VictimRegistry/RecordResidenceStatus", "registration.registration_id", "registration.version", "registration.residence");

        var refused = await Assert.ThrowsAsync<RpcException>(() => _mesh.Admin.DraftGrantAsync(new() { Grant = wide }, _mesh.As("privacy-officer-1")).ResponseAsync);
        var narrowed = await Assert.ThrowsAsync<RpcException>(() => _mesh.Admin.DraftGrantAsync(new() { Grant = narrowRead }, _mesh.As("privacy-officer-1")).ResponseAsync);
        var accepted = (await _mesh.Admin.DraftGrantAsync(new() { Grant = within }, _mesh.As("privacy-officer-1"))).Version;

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        var violation = Assert.Single(refused.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations);
        Assert.Equal("grant.methods[0].response_mask", violation.Field);
        Assert.Contains("registration.link_keys", violation.Description);
        Assert.Contains("registration.linked_records", violation.Description);
        Assert.Contains("registration.exploitation.sector", violation.Description);
        Assert.Contains("registration.reporter_partner", violation.Description);
        Assert.Equal(StatusCode.InvalidArgument, narrowed.StatusCode);
        Assert.Contains("registration.residence", narrowed.Status.Detail + string.Join(" ", narrowed.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Description)));
        Assert.Equal(GrantState.Draft, accepted.State);
    }

    [Fact]
    public async Task Approve_refuses_a_missing_unknown_or_already_approved_version()
    {
        var draft = (await _mesh.Admin.DraftGrantAsync(new() { Grant = Valid() }, _mesh.As("privacy-officer-1"))).Version;
        await _mesh.Admin.ApproveGrantAsync(new() { VersionHash = draft.VersionHash }, _mesh.As("privacy-officer-2"));

        Assert.Equal(StatusCode.InvalidArgument, (await Refused(options => _mesh.Admin.ApproveGrantAsync(new(), options))).Code);
        Assert.Equal(StatusCode.NotFound, (await Refused(options => _mesh.Admin.ApproveGrantAsync(new() { VersionHash = new string('0', 64) }, options))).Code);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(options => _mesh.Admin.ApproveGrantAsync(new() { VersionHash = draft.VersionHash }, options), "privacy-officer-2")).Code);
    }

    [Fact]
    public async Task Revoke_refuses_missing_fields_unknown_grants_and_grants_with_nothing_to_revoke()
    {
        var missing = await Refused(options => _mesh.Admin.RevokeGrantAsync(new(), options));
        await _mesh.Admin.DraftGrantAsync(new() { Grant = Valid() }, _mesh.As("privacy-officer-1"));

        Assert.Equal(StatusCode.InvalidArgument, missing.Code);
        Assert.Equal(["grant_id", "reason"], missing.Fields);
        Assert.Equal(StatusCode.NotFound, (await Refused(options => _mesh.Admin.RevokeGrantAsync(new() { GrantId = "nope", Reason = "r" }, options))).Code);
        Assert.Equal(StatusCode.FailedPrecondition, (await Refused(options => _mesh.Admin.RevokeGrantAsync(new() { GrantId = "care-waiting-list", Reason = "r" }, options))).Code);
    }

    [Fact]
    public async Task Get_list_and_simulate_refuse_what_they_cannot_answer()
    {
        Assert.Equal(StatusCode.InvalidArgument, (await Refused(options => _mesh.Admin.GetGrantAsync(new(), options))).Code);
        Assert.Equal(StatusCode.NotFound, (await Refused(options => _mesh.Admin.GetGrantAsync(new() { GrantId = "nope" }, options))).Code);
        Assert.Equal(StatusCode.InvalidArgument, (await Refused(options => _mesh.Admin.ListGrantsAsync(new() { Purpose = (Purpose)99 }, options))).Code);
        var simulate = await Refused(options => _mesh.Admin.SimulateAccessAsync(new(), options));
        Assert.Equal(StatusCode.InvalidArgument, simulate.Code);
        Assert.Equal(["partner_id", "purpose", "method"], simulate.Fields);
        Assert.Equal(StatusCode.NotFound, (await Refused(options => _mesh.Admin.SimulateAccessAsync(
            new() { PartnerId = "care", Purpose = Purpose.VictimCare, Method = "chain.shelter.v1.ShelterCapacity/ListShelters", CandidateVersionHash = "00" }, options))).Code);
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
        "DraftGrant" => _mesh.Admin.DraftGrantAsync(new() { Grant = Valid() }, options).ResponseAsync,
        "ApproveGrant" => _mesh.Admin.ApproveGrantAsync(new() { VersionHash = "x" }, options).ResponseAsync,
        "RevokeGrant" => _mesh.Admin.RevokeGrantAsync(new() { GrantId = "x", Reason = "r" }, options).ResponseAsync,
        "GetGrant" => _mesh.Admin.GetGrantAsync(new() { GrantId = "x" }, options).ResponseAsync,
        "ListGrants" => _mesh.Admin.ListGrantsAsync(new(), options).ResponseAsync,
        "SimulateAccess" => _mesh.Admin.SimulateAccessAsync(new(), options).ResponseAsync,
        "PublishPolicy" => _mesh.Admin.PublishPolicyAsync(new(), options).ResponseAsync,
        _ => throw new InvalidOperationException($"No test call for {method}: add one."),
    };

    private async Task<(StatusCode Code, List<string> Fields)> Refused<TResponse>(Func<CallOptions, AsyncUnaryCall<TResponse>> call, string officer = "privacy-officer-1")
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => call(_mesh.As(officer)).ResponseAsync);
        var fields = error.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(v => v.Field).ToList() ?? [];
        return (error.StatusCode, fields);
    }
}
