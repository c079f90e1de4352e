using Chain.Returns.V1;
using Grpc.Core;
using Ketenmesh.Hosting;
using Ketenmesh.Returns.Domain;

namespace Ketenmesh.Returns.Grpc;

/// <summary>chain.returns.v1.ReturnCoordination: the contract's methods over the return domain.</summary>
[CalledByPartners]
public sealed class ReturnCoordinationService(ReturnCases cases) : ReturnCoordination.ReturnCoordinationBase
{
    public override Task<OpenD9SignalResponse> OpenD9Signal(OpenD9SignalRequest request, ServerCallContext context) =>
        cases.OpenD9Async(context.Partner(), request, context.CancellationToken);

    public override async Task<LiftD9SuspensionResponse> LiftD9Suspension(LiftD9SuspensionRequest request, ServerCallContext context) =>
        new() { ReturnCase = await cases.LiftD9Async(request, context.CancellationToken) };

    public override Task<PlanVoluntaryReturnResponse> PlanVoluntaryReturn(PlanVoluntaryReturnRequest request, ServerCallContext context) =>
        cases.PlanAsync(context.Partner(), request, context.CancellationToken);

    public override async Task<RecordDepartureResponse> RecordDeparture(RecordDepartureRequest request, ServerCallContext context) =>
        new() { ReturnCase = await cases.RecordDepartureAsync(request, context.CancellationToken) };

    public override async Task<RecordMonitoringResponse> RecordMonitoring(RecordMonitoringRequest request, ServerCallContext context) =>
        new() { ReturnCase = await cases.RecordMonitoringAsync(request, context.CancellationToken) };

    public override async Task<RecordReturnOutcomeResponse> RecordReturnOutcome(RecordReturnOutcomeRequest request, ServerCallContext context) =>
        new() { ReturnCase = await cases.RecordOutcomeAsync(request, context.CancellationToken) };

    public override async Task<GetReturnCaseResponse> GetReturnCase(GetReturnCaseRequest request, ServerCallContext context) =>
        new() { ReturnCase = await cases.GetAsync(context.Partner(), request.ReturnCaseId, context.CancellationToken) };

    public override Task<ShareReturnWithCoMenshaResponse> ShareReturnWithCoMensha(ShareReturnWithCoMenshaRequest request, ServerCallContext context) =>
        cases.ShareWithCoMenshaAsync(request, context.CancellationToken);
}
