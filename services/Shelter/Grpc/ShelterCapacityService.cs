using Chain.Shelter.V1;
using Grpc.Core;
using Ketenmesh.Hosting;
using Ketenmesh.Shelter.Domain;

namespace Ketenmesh.Shelter.Grpc;

/// <summary><c>chain.shelter.v1.ShelterCapacity</c>: the contract's methods over the capacity and placement domain.</summary>
[CalledByPartners]
public sealed class ShelterCapacityService(CapacityBoard board, CapacityWatch watch, Placements placements, LargeGroups largeGroups) : ShelterCapacity.ShelterCapacityBase
{
    public override async Task<ReportCapacityResponse> ReportCapacity(ReportCapacityRequest request, ServerCallContext context) =>
        new() { Capacity = await board.ReportAsync(context.Partner(), request, context.CancellationToken) };

    public override async Task<GetCapacityResponse> GetCapacity(GetCapacityRequest request, ServerCallContext context) =>
        new() { Overview = await board.GetAsync(request.ShelterId, context.CancellationToken) };

    public override Task<ListSheltersResponse> ListShelters(ListSheltersRequest request, ServerCallContext context) =>
        board.ListAsync(request, context.CancellationToken);

    /// <summary>Every capacity change in order; resumes after the highest version received, with no gap and no repeat.</summary>
    public override async Task WatchCapacity(WatchCapacityRequest request, IServerStreamWriter<WatchCapacityResponse> responseStream, ServerCallContext context)
    {
        var shelters = request.ShelterIds.ToHashSet(StringComparer.Ordinal);
        var categories = request.CategoryFilter.ToHashSet();
        try
        {
            // Headers tell the client the watch is live: every change after this reaches it.
            await foreach (var (snapshot, initial) in watch.ChangesAsync(request.ResumeAfterVersion, () => context.WriteResponseHeadersAsync(new Metadata()), context.CancellationToken))
            {
                if ((shelters.Count == 0 || shelters.Contains(snapshot.ShelterId))
                    && (categories.Count == 0 || snapshot.Beds.Any(b => categories.Contains(b.Category))))
                {
                    await responseStream.WriteAsync(new WatchCapacityResponse { Capacity = snapshot, Initial = initial });
                }
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The partner stopped watching.
        }
    }

    public override async Task<RequestPlacementResponse> RequestPlacement(RequestPlacementRequest request, ServerCallContext context)
    {
        var (placement, duplicate) = await placements.RequestAsync(context.Partner(), request, context.CancellationToken);
        return new RequestPlacementResponse { Placement = placement, Duplicate = duplicate };
    }

    public override async Task<GetPlacementResponse> GetPlacement(GetPlacementRequest request, ServerCallContext context) =>
        new() { Placement = await placements.GetAsync(context.Partner(), request.PlacementId, context.CancellationToken) };

    public override Task<ListWaitingListResponse> ListWaitingList(ListWaitingListRequest request, ServerCallContext context) =>
        placements.ListWaitingAsync(request, context.CancellationToken);

    public override Task<ListPlacementsResponse> ListPlacements(ListPlacementsRequest request, ServerCallContext context) =>
        placements.ListAsync(context.Partner(), request, context.CancellationToken);

    public override async Task<RecordPlacementDecisionResponse> RecordPlacementDecision(RecordPlacementDecisionRequest request, ServerCallContext context) =>
        new() { Placement = await placements.DecideAsync(context.Partner(), request, context.CancellationToken) };

    public override async Task<RequestLargeGroupShelterResponse> RequestLargeGroupShelter(RequestLargeGroupShelterRequest request, ServerCallContext context)
    {
        var (arrangement, duplicate) = await largeGroups.RequestAsync(context.Partner(), request, context.CancellationToken);
        return new RequestLargeGroupShelterResponse { Arrangement = arrangement, Duplicate = duplicate };
    }

    public override async Task<GetLargeGroupArrangementResponse> GetLargeGroupArrangement(GetLargeGroupArrangementRequest request, ServerCallContext context) =>
        new() { Arrangement = await largeGroups.GetAsync(context.Partner(), request.ArrangementId, context.CancellationToken) };

    public override async Task<EndLargeGroupArrangementResponse> EndLargeGroupArrangement(EndLargeGroupArrangementRequest request, ServerCallContext context) =>
        new() { Arrangement = await largeGroups.EndAsync(context.Partner(), request.ArrangementId, context.CancellationToken) };
}
