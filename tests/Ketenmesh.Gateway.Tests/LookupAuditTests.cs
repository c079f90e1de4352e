using Chain.Common.V1;
using Chain.Registry.V1;
using Chain.Returns.V1;
using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Audit.Reading;
using Ketenmesh.Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// A lookup names no one in its request, yet tells the caller about everyone it finds: each person found is on
/// record under their own pseudonym before the answer leaves, so their data-subject access report shows it.
/// </summary>
public sealed class LookupAuditTests : IAsyncLifetime
{
    private const string FindByLinkKeys = "chain.registry.v1.VictimRegistry/FindByLinkKeys";
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task A_person_a_lookup_finds_sees_that_lookup_in_their_access_report()
    {
        var request = new FindByLinkKeysRequest { LinkKeys = { new PersonLinkKey { Kind = LinkKeyKind.TravelDocument, KeyedHash = ByteString.CopyFrom(new byte[32]), KeyId = "k-1" } } };

        var result = await _mesh.Raw.CallAsync(FindByLinkKeys, [request.ToByteArray()], _mesh.As("comensha", "victim_care"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        // The stand-in answers with every field set: its matches name one registration.
        var found = Assert.Single(FindByLinkKeysResponse.Parser.ParseFrom(Assert.Single(result.Messages)).Matches.Select(m => m.RegistrationId).Distinct());
        await using var scope = _mesh.Services.CreateAsyncScope();
        var report = await scope.ServiceProvider.GetRequiredService<AuditReader>().SubjectAccessReportAsync($"registration_id:{found}");
        var access = Assert.Single(report.Accesses);
        Assert.Equal("comensha", access.PartnerId);
        Assert.Equal(FindByLinkKeys, access.Method);
    }

    [Fact]
    public async Task A_read_of_a_return_case_puts_the_registration_its_answer_names_in_that_persons_access_report()
    {
        const string GetReturnCase = "chain.returns.v1.ReturnCoordination/GetReturnCase";
        var request = new GetReturnCaseRequest { ReturnCaseId = "rc-1" };

        var result = await _mesh.Raw.CallAsync(GetReturnCase, [request.ToByteArray()], _mesh.As("comensha", "victim_care"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        // The stand-in answers with every field set: the case names a registration the request did not.
        var registration = GetReturnCaseResponse.Parser.ParseFrom(Assert.Single(result.Messages)).ReturnCase.RegistrationId;
        Assert.NotEmpty(registration);
        await using var scope = _mesh.Services.CreateAsyncScope();
        var reader = scope.ServiceProvider.GetRequiredService<AuditReader>();
        var access = Assert.Single((await reader.SubjectAccessReportAsync($"registration_id:{registration}")).Accesses);
        Assert.Equal("comensha", access.PartnerId);
        Assert.Equal(GetReturnCase, access.Method);
        // The case itself is on record once, under the call's own decision.
        Assert.Single((await reader.SubjectAccessReportAsync("return_case_id:rc-1")).Accesses);
    }

    [Fact]
    public async Task A_read_of_one_registration_is_on_record_once_under_that_registration()
    {
        var request = new GetRegistrationRequest { RegistrationId = "s-registration_id" };

        var result = await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [request.ToByteArray()], _mesh.As("care", "victim_care"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        await using var scope = _mesh.Services.CreateAsyncScope();
        var report = await scope.ServiceProvider.GetRequiredService<AuditReader>().SubjectAccessReportAsync("registration_id:s-registration_id");
        Assert.Single(report.Accesses);
    }

    [Fact]
    public async Task A_ward_Nidos_lists_sees_that_listing_in_their_access_report()
    {
        const string ListWards = "chain.registry.v1.VictimRegistry/ListWards";

        var result = await _mesh.Raw.CallAsync(ListWards, [new ListWardsRequest().ToByteArray()], _mesh.As("nidos", "victim_care"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        // The stand-in answers with every field set: its wards name a registration the request did not.
        var ward = Assert.Single(ListWardsResponse.Parser.ParseFrom(Assert.Single(result.Messages)).Wards.Select(w => w.RegistrationId).Distinct());
        await using var scope = _mesh.Services.CreateAsyncScope();
        var access = Assert.Single((await scope.ServiceProvider.GetRequiredService<AuditReader>().SubjectAccessReportAsync($"registration_id:{ward}")).Accesses);
        Assert.Equal("nidos", access.PartnerId);
        Assert.Equal(ListWards, access.Method);
    }
}
