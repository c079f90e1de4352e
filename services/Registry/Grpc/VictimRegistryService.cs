using Chain.Registry.V1;
using Ketenmesh.Grpc;
using Ketenmesh.Hosting;
using Ketenmesh.Registry.Domain;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Grpc;

/// <summary>chain.registry.v1.VictimRegistry: the contract's methods over the registry's domain.</summary>
public sealed class VictimRegistryService(Registrations registrations, ReflectionAndResidence legalPath, Linkage linkage, Consents consents, Statistics statistics)
{
    public Task<RegisterVictimResponse> RegisterVictim(RegisterVictimRequest request, ServerCallContext context) =>
        registrations.RegisterAsync(CallerPartner.Require(context), request, context.CancellationToken);

    public async Task<GetRegistrationResponse> GetRegistration(GetRegistrationRequest request, ServerCallContext context)
    {
        CallerPartner.Require(context);
        if (string.IsNullOrWhiteSpace(request.RegistrationId))
        {
            throw new InvalidRequest("registration_id is required.", [("registration_id", "name the registration to read.")]);
        }
        return new GetRegistrationResponse { Registration = await registrations.GetAsync(request.RegistrationId, context.CancellationToken) };
    }

    public async Task<ChangeStatusResponse> ChangeStatus(ChangeStatusRequest request, ServerCallContext context)
    {
        var partner = CallerPartner.Require(context);
        if (string.IsNullOrWhiteSpace(request.RegistrationId))
        {
            throw new InvalidRequest("registration_id is required.", [("registration_id", "name the registration whose status changes.")]);
        }
        return new ChangeStatusResponse { Registration = await registrations.ChangeStatusAsync(partner, request, context.CancellationToken) };
    }

    public async Task<FindByLinkKeysResponse> FindByLinkKeys(FindByLinkKeysRequest request, ServerCallContext context)
    {
        CallerPartner.Require(context);
        var problems = Registrations.LinkKeyProblems(request.LinkKeys, "link_keys").ToList();
        if (request.LinkKeys.Count == 0)
        {
            problems.Add(("link_keys", "name at least one key to look for."));
        }
        InvalidRequest.ThrowIfAny(problems);
        return new FindByLinkKeysResponse { Matches = { await registrations.FindAsync(request.LinkKeys, context.CancellationToken) } };
    }

    public async Task<StartReflectionPeriodResponse> StartReflectionPeriod(StartReflectionPeriodRequest request, ServerCallContext context)
    {
        CallerPartner.Require(context);
        return new StartReflectionPeriodResponse { Registration = await legalPath.StartReflectionPeriodAsync(request, context.CancellationToken) };
    }

    public async Task<RecordAangifteStatusResponse> RecordAangifteStatus(RecordAangifteStatusRequest request, ServerCallContext context)
    {
        CallerPartner.Require(context);
        return new RecordAangifteStatusResponse { Registration = await legalPath.RecordAangifteStatusAsync(request, context.CancellationToken) };
    }

    public async Task<RecordResidenceStatusResponse> RecordResidenceStatus(RecordResidenceStatusRequest request, ServerCallContext context)
    {
        CallerPartner.Require(context);
        return new RecordResidenceStatusResponse { Registration = await legalPath.RecordResidenceStatusAsync(request, context.CancellationToken) };
    }

    public async Task<LinkRecordsResponse> LinkRecords(LinkRecordsRequest request, ServerCallContext context)
    {
        CallerPartner.Require(context);
        return new LinkRecordsResponse { Registration = await linkage.LinkRecordsAsync(request, context.CancellationToken) };
    }

    public Task<MergeRegistrationsResponse> MergeRegistrations(MergeRegistrationsRequest request, ServerCallContext context) =>
        linkage.MergeAsync(CallerPartner.Require(context), request, context.CancellationToken);

    public async Task<RecordConsentResponse> RecordConsent(RecordConsentRequest request, ServerCallContext context) =>
        new() { Consent = await consents.RecordAsync(CallerPartner.Require(context), request, context.CancellationToken) };

    public Task<ListConsentsResponse> ListConsents(ListConsentsRequest request, ServerCallContext context)
    {
        CallerPartner.Require(context);
        return consents.ListAsync(request, context.CancellationToken);
    }

    /// <summary>Counts only, with small cells withheld: the statistics path never returns a registration.</summary>
    public Task<GetStatisticsResponse> GetStatistics(GetStatisticsRequest request, ServerCallContext context)
    {
        CallerPartner.Require(context);
        return statistics.GetAsync(request, context.CancellationToken);
    }
}
