using Ketenmesh.Contracts;
using Chain.Registry.V1;
using Grpc.Core;
using Ketenmesh.Hosting;
using Ketenmesh.Registry.Domain;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Grpc;

/// <summary>chain.registry.v1.VictimRegistry: the contract's methods over the registry's domain.</summary>
[CalledByPartners]
public sealed class VictimRegistryService(Registrations registrations, ReflectionAndResidence legalPath, Linkage linkage, Consents consents, Statistics statistics, Wards wards) : VictimRegistry.VictimRegistryBase
{
    public override Task<RegisterVictimResponse> RegisterVictim(RegisterVictimRequest request, ServerCallContext context) =>
        registrations.RegisterAsync(context.Partner(), request, context.CancellationToken);

    public override async Task<GetRegistrationResponse> GetRegistration(GetRegistrationRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.RegistrationId))
        {
            throw new InvalidRequest("registration_id is required.", [("registration_id", "name the registration to read.")]);
        }
        return new GetRegistrationResponse { Registration = await registrations.GetAsync(context.Partner(), request.RegistrationId, context.CancellationToken) };
    }

    public override async Task<ChangeStatusResponse> ChangeStatus(ChangeStatusRequest request, ServerCallContext context)
    {
        var partner = context.Partner();
        if (string.IsNullOrWhiteSpace(request.RegistrationId))
        {
            throw new InvalidRequest("registration_id is required.", [("registration_id", "name the registration whose status changes.")]);
        }
        return new ChangeStatusResponse { Registration = await registrations.ChangeStatusAsync(partner, request, context.CancellationToken) };
    }

    public override async Task<FindByLinkKeysResponse> FindByLinkKeys(FindByLinkKeysRequest request, ServerCallContext context)
    {
        var problems = PersonLinkKeys.Problems(request.LinkKeys, "link_keys").ToList();
        if (request.LinkKeys.Count == 0)
        {
            problems.Add(("link_keys", "name at least one key to look for."));
        }
        InvalidRequest.ThrowIfAny(problems);
        return new FindByLinkKeysResponse { Matches = { await registrations.FindAsync(request.LinkKeys, context.CancellationToken) } };
    }

    public override async Task<StartReflectionPeriodResponse> StartReflectionPeriod(StartReflectionPeriodRequest request, ServerCallContext context)
    {
        return new StartReflectionPeriodResponse { Registration = await legalPath.StartReflectionPeriodAsync(context.Partner(), request, context.CancellationToken) };
    }

    public override async Task<RecordAangifteStatusResponse> RecordAangifteStatus(RecordAangifteStatusRequest request, ServerCallContext context)
    {
        return new RecordAangifteStatusResponse { Registration = await legalPath.RecordAangifteStatusAsync(request, context.CancellationToken) };
    }

    public override async Task<CorrectAangifteStatusResponse> CorrectAangifteStatus(CorrectAangifteStatusRequest request, ServerCallContext context)
    {
        return new CorrectAangifteStatusResponse { Registration = await legalPath.CorrectAangifteStatusAsync(context.Partner(), request, context.CancellationToken) };
    }

    public override async Task<RecordLegalStatementResponse> RecordLegalStatement(RecordLegalStatementRequest request, ServerCallContext context)
    {
        return new RecordLegalStatementResponse { Registration = await legalPath.RecordLegalStatementAsync(context.Partner(), request, context.CancellationToken) };
    }

    public override async Task<RecordResidenceStatusResponse> RecordResidenceStatus(RecordResidenceStatusRequest request, ServerCallContext context)
    {
        return new RecordResidenceStatusResponse { Registration = await legalPath.RecordResidenceStatusAsync(request, context.CancellationToken) };
    }

    public override async Task<LinkRecordsResponse> LinkRecords(LinkRecordsRequest request, ServerCallContext context)
    {
        return new LinkRecordsResponse { Registration = await linkage.LinkRecordsAsync(context.Partner(), request, context.CancellationToken) };
    }

    public override Task<MergeRegistrationsResponse> MergeRegistrations(MergeRegistrationsRequest request, ServerCallContext context) =>
        linkage.MergeAsync(context.Partner(), request, context.CancellationToken);

    public override async Task<RecordConsentResponse> RecordConsent(RecordConsentRequest request, ServerCallContext context) =>
        new() { Consent = await consents.RecordAsync(context.Partner(), request, context.CancellationToken) };

    public override Task<ListConsentsResponse> ListConsents(ListConsentsRequest request, ServerCallContext context)
    {
        return consents.ListAsync(context.Partner(), request, context.CancellationToken);
    }

    /// <summary>Counts only, with small cells withheld: the statistics path never returns a registration.</summary>
    public override Task<GetStatisticsResponse> GetStatistics(GetStatisticsRequest request, ServerCallContext context)
    {
        return statistics.GetAsync(request, context.CancellationToken);
    }

    public override Task<ListWardsResponse> ListWards(ListWardsRequest request, ServerCallContext context) =>
        wards.ListAsync(context.Partner(), request, context.CancellationToken);
}
