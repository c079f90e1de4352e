using Chain.Common.V1;
using Chain.Registry.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>GetStatistics over real registrations: counts per person after merges, small cells withheld, years kept apart.</summary>
public sealed class StatisticsTests : IAsyncLifetime
{
    private readonly MovableClock _clock = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private RegistryHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync(_clock);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<Registration> PersonAsync(string id, FormOfExploitation form, string nationality, int ageAtStart = 25) =>
        await RegisterAsync(_host.Channel, id,
            new PersonProfile { AgeAtExploitationStart = ageAtStart, Nationalities = { new Nationality { CountryCode = nationality, Basis = NationalityBasis.Documented } } },
            new ExploitationProfile { Form = form, Sector = form == FormOfExploitation.Labour ? Sector.AgricultureHorticulture : Sector.SexIndustry });

    private async Task<GetStatisticsResponse> StatisticsAsync(int from, int to, params StatisticsDimension[] groupBy) =>
        await _host.Channel.Registry().GetStatisticsAsync(new GetStatisticsRequest { YearFrom = from, YearTo = to, GroupBy = { groupBy } }, As("rapporteur"));

    [Fact]
    public async Task Counts_are_per_person_after_merges_with_small_cells_withheld_and_never_worked_out_from_the_total()
    {
        // 2025: 12 sexual exploitation (NG), 7 labour (RO), 2 criminal (NL, one a minor at the start); one NG person registered twice.
        var persons = new List<Registration>();
        for (var i = 0; i < 12; i++)
        {
            persons.Add(await PersonAsync($"s-{i}", FormOfExploitation.Sexual, "NG"));
        }
        for (var i = 0; i < 7; i++)
        {
            await PersonAsync($"l-{i}", FormOfExploitation.Labour, "RO");
        }
        await PersonAsync("c-0", FormOfExploitation.Criminal, "NL", ageAtStart: 16);
        await PersonAsync("c-1", FormOfExploitation.Criminal, "NL");
        var twice = await PersonAsync("s-dup", FormOfExploitation.Sexual, "NG");
        await _host.Channel.Registry().MergeRegistrationsAsync(new MergeRegistrationsRequest
        {
            ClientRequestId = "dup", SurvivingRegistrationId = persons[0].RegistrationId, MergedRegistrationIds = { twice.RegistrationId }, Reason = MergeReason.DuplicateReport,
        }, As("comensha"));

        var total = Assert.Single((await StatisticsAsync(2025, 2025)).Cells);
        var byForm = await StatisticsAsync(2025, 2025, StatisticsDimension.Form);
        var byMinor = await StatisticsAsync(2025, 2025, StatisticsDimension.Minor);

        Assert.Equal(21, total.Count);
        Assert.Equal(Domain.Statistics.Threshold, byForm.SuppressionThreshold);
        var sexual = byForm.Cells.Single(c => c.Form == FormOfExploitation.Sexual);
        var criminal = byForm.Cells.Single(c => c.Form == FormOfExploitation.Criminal);
        var labour = byForm.Cells.Single(c => c.Form == FormOfExploitation.Labour);
        Assert.True(criminal.Suppressed);
        Assert.Equal(0, criminal.Count);
        // With criminal (2) withheld, 21 minus the rest would give it away: at least one other cell goes too.
        Assert.True(byForm.Cells.Count(c => c.Suppressed) >= 2);
        Assert.True(labour.Suppressed || labour.Count == 7);
        Assert.True(sexual.Suppressed || sexual.Count == 12);
        Assert.All(byForm.Cells, c => Assert.Equal(0, c.Year));
        var minors = byMinor.Cells.Single(c => c.Minor == true);
        Assert.True(minors.Suppressed);
        Assert.True(byMinor.Cells.Single(c => c.Minor == false).Suppressed);
    }

    [Fact]
    public async Task Years_are_counted_apart_and_a_range_withholds_what_any_year_withholds()
    {
        for (var i = 0; i < 6; i++)
        {
            await PersonAsync($"a-{i}", FormOfExploitation.Sexual, "HU");
        }
        _clock.Advance(TimeSpan.FromDays(365));
        for (var i = 0; i < 3; i++)
        {
            await PersonAsync($"b-{i}", FormOfExploitation.Sexual, "HU");
        }

        var byYear = await StatisticsAsync(2025, 2026, StatisticsDimension.Year);
        var range = Assert.Single((await StatisticsAsync(2025, 2026)).Cells);
        var first = Assert.Single((await StatisticsAsync(2025, 2025)).Cells);

        Assert.Equal([2025, 2026], byYear.Cells.Select(c => c.Year));
        Assert.Equal(6, byYear.Cells[0].Count);
        Assert.True(byYear.Cells[1].Suppressed);
        // 9 over both years minus the 6 of 2025 would give 2026's 3.
        Assert.True(range.Suppressed);
        Assert.Equal(6, first.Count);
    }

    [Fact]
    public async Task Bad_statistics_requests_name_the_field()
    {
        var backwards = await Assert.ThrowsAsync<RpcException>(() => StatisticsAsync(2025, 2024));
        var future = await Assert.ThrowsAsync<RpcException>(() => StatisticsAsync(2025, 2031));
        var twice = await Assert.ThrowsAsync<RpcException>(() => StatisticsAsync(2025, 2025, StatisticsDimension.Form, StatisticsDimension.Form));

        Assert.Contains("year_to", backwards.Status.Detail);
        Assert.Contains("year_to", future.Status.Detail);
        Assert.Contains("group_by", twice.Status.Detail);
        Assert.All(new[] { backwards, future, twice }, e => Assert.Equal(StatusCode.InvalidArgument, e.StatusCode));
    }
}
