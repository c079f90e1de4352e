using Chain.Registry.V1;
using Grpc.Core;

namespace Ketenmesh.OfficerConsole.Dashboard;

/// <summary>
/// The registry's statistics through the gateway, as the National Rapporteur: with the signed-in researcher's
/// own token (the partner <c>rapporteur</c>) and the purpose <c>statistics</c>, so the gateway's grant, mask and
/// audit record apply as to any partner call. The console reads nothing with access of its own.
/// </summary>
public sealed class RapporteurStatistics(VictimRegistry.VictimRegistryClient registry, SessionToken token)
{
    public async Task<IReadOnlyList<Breakdown>> DashboardAsync(int yearFrom, int yearTo)
    {
        var options = await token.CallOptionsAsync(purpose: "statistics");
        // The four breakdowns at once: each is a call of its own through the gateway, decided and recorded on its own.
        return await Task.WhenAll(Breakdown.Dashboard.Select(async breakdown =>
            Breakdown.From(await registry.GetStatisticsAsync(Breakdown.Request(yearFrom, yearTo, breakdown.By), options), breakdown.By, breakdown.Title, yearFrom, yearTo)));
    }

    public static string PlainWords(RpcException refusal) => OfficerConsole.PlainWords.Of(refusal, "the registry", refusal.StatusCode switch
    {
        StatusCode.PermissionDenied => "The gateway did not allow the statistics to be read: " + refusal.Status.Detail,
        StatusCode.InvalidArgument => "These years cannot be shown: " + refusal.Status.Detail,
        _ => null,
    });
}
