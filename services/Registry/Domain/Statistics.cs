using Chain.Common.V1;
using Chain.Registry.V1;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// Counts for the National Rapporteur: persons (after linkage and merges, so nobody twice) by
/// registration year × form × nationality × minor × sector. Only counts leave; a count below
/// <see cref="Threshold"/> is withheld, and so is whatever would let it be worked out again (docs/adr/0005).
/// </summary>
/// <remarks>
/// How nothing leaks through totals: every year's tables are decided together (<see cref="YearTables"/>),
/// from that year's registrations only, never from the range or breakdown asked, so requests cannot be
/// played off against each other. Any total, in any table, is the sum of its parts in a finer table: no
/// such sum has exactly one unknown, and solving all the sums of a year at once as a system of equations
/// (<see cref="EquationAudit"/>) pins down no small cell either. Over several years without a year
/// breakdown, a cell is withheld when any year's part of it is.
/// </remarks>
public sealed class Statistics(RegistryDbContext db, TimeProvider clock)
{
    public const int Threshold = 5;
    public const int MaxYears = 50;

    public async Task<GetStatisticsResponse> GetAsync(GetStatisticsRequest request, CancellationToken cancellationToken)
    {
        var thisYear = clock.GetUtcNow().Year;
        var problems = new List<(string Field, string Description)>();
        if (request.YearFrom < 2000 || request.YearFrom > thisYear)
        {
            problems.Add(("year_from", $"must be a year from 2000 to {thisYear}."));
        }
        if (request.YearTo < request.YearFrom || request.YearTo > thisYear || request.YearTo - request.YearFrom >= MaxYears)
        {
            problems.Add(("year_to", $"must be from year_from to {thisYear}, at most {MaxYears} years in all."));
        }
        if (request.GroupBy.Any(d => d == StatisticsDimension.Unspecified || !Enum.IsDefined(d)) || request.GroupBy.Distinct().Count() != request.GroupBy.Count)
        {
            problems.Add(("group_by", "name each dimension once: YEAR, FORM, NATIONALITY, MINOR, SECTOR."));
        }
        InvalidRequest.ThrowIfAny(problems);

        var from = new DateTime(request.YearFrom, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var until = new DateTime(request.YearTo + 1, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var records = await db.Registrations.AsNoTracking()
            .Where(r => r.RegisteredAt >= from && r.RegisteredAt < until)
            .Select(r => r.Data).ToListAsync(cancellationToken);
        var facts = records.Select(Registration.Parser.ParseFrom)
            .Where(r => r.ClosureReason != RegistrationClosureReason.Merged)
            .Select(r => new Fact(r.RegisteredAt.ToDateTime().Year, new Cell(r.Exploitation?.Form ?? FormOfExploitation.Unspecified,
                PersonRules.StatisticalNationality(r.Person ?? new PersonProfile()), r.Person?.Minor ?? false, r.Exploitation?.Sector ?? Sector.Unspecified)))
            .ToList();

        var dimensions = DimensionsExtensions.Below(request.GroupBy);
        var byYear = request.GroupBy.Contains(StatisticsDimension.Year);
        var cells = new SortedDictionary<(int Year, Cell Cell), (int Count, bool Suppressed)>(Comparer<(int Year, Cell Cell)>.Create(CompareCells));
        for (var year = request.YearFrom; year <= request.YearTo; year++)
        {
            var table = new YearTables(facts.Where(f => f.Year == year).Select(f => f.Cell).ToList()).Table(dimensions);
            foreach (var (cell, count) in table.Counts)
            {
                var at = (byYear ? year : 0, cell);
                var (sum, suppressed) = cells.GetValueOrDefault(at);
                cells[at] = (sum + count, suppressed || table.Suppressed.Contains(cell));
            }
        }
        var response = new GetStatisticsResponse { SuppressionThreshold = Threshold, GeneratedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(clock.GetUtcNow()) };
        foreach (var ((year, cell), (count, suppressed)) in cells)
        {
            var published = new StatisticsCell { Year = year, Suppressed = suppressed, Count = suppressed ? 0 : count };
            if (dimensions.HasFlag(Dimensions.Form))
            {
                published.Form = cell.Form;
            }
            if (dimensions.HasFlag(Dimensions.Nationality))
            {
                published.NationalityCountryCode = cell.Nationality;
            }
            if (dimensions.HasFlag(Dimensions.Minor))
            {
                published.Minor = cell.Minor;
            }
            if (dimensions.HasFlag(Dimensions.Sector))
            {
                published.Sector = cell.Sector;
            }
            response.Cells.Add(published);
        }
        return response;
    }

    private static int CompareCells((int Year, Cell Cell) a, (int Year, Cell Cell) b) =>
        (a.Year, a.Cell.Form, a.Cell.Nationality, a.Cell.Minor, a.Cell.Sector).CompareTo((b.Year, b.Cell.Form, b.Cell.Nationality, b.Cell.Minor, b.Cell.Sector));

    private sealed record Fact(int Year, Cell Cell);
}

/// <summary>The dimensions below the year a table is broken down by.</summary>
[Flags]
public enum Dimensions
{
    None = 0,
    Form = 1,
    Nationality = 2,
    Minor = 4,
    Sector = 8,
}

public static class DimensionsExtensions
{
    public static Dimensions Below(IEnumerable<StatisticsDimension> groupBy) => groupBy.Aggregate(Dimensions.None, (all, d) => all | d switch
    {
        StatisticsDimension.Form => Dimensions.Form,
        StatisticsDimension.Nationality => Dimensions.Nationality,
        StatisticsDimension.Minor => Dimensions.Minor,
        StatisticsDimension.Sector => Dimensions.Sector,
        _ => Dimensions.None,
    });

    public static IEnumerable<Dimensions> Each(this Dimensions dimensions) =>
        Enum.GetValues<Dimensions>().Where(d => d != Dimensions.None && dimensions.HasFlag(d));
}

/// <summary>One combination of dimension values; values of dimensions not broken down by are left at their defaults.</summary>
public readonly record struct Cell(FormOfExploitation Form, string Nationality, bool Minor, Sector Sector)
{
    public Cell Project(Dimensions keep) => new(
        keep.HasFlag(Dimensions.Form) ? Form : FormOfExploitation.Unspecified,
        keep.HasFlag(Dimensions.Nationality) ? Nationality : "",
        keep.HasFlag(Dimensions.Minor) && Minor,
        keep.HasFlag(Dimensions.Sector) ? Sector : Sector.Unspecified);
}

/// <summary>
/// All sixteen tables of one registration year (every breakdown by form, nationality, minor and sector),
/// with the cells each withholds, decided together: a table and the one a dimension coarser are tied by
/// "this total is the sum of these parts", and in no such relation may exactly one member be withheld,
/// or it would be the total minus the rest (or the sum of the parts). Cells below the threshold are
/// withheld first; then, relation by relation, the smallest published member of any relation with one
/// withheld member is withheld too, until no relation gives anything away. Last, the equation audit
/// looks for small cells that all sums together still pin down, and a published member of a sum with
/// such a cell is withheld, until none is left (a realistic year of 1,711 people: about 150 ms).
/// </summary>
public sealed class YearTables
{
    private static readonly Dimensions[] All = Enumerable.Range(0, 16).Select(i => (Dimensions)i).ToArray();
    private readonly Dictionary<Dimensions, SuppressedTable> _tables = [];

    public YearTables(IReadOnlyList<Cell> persons)
    {
        var counts = All.ToDictionary(d => d, d => persons.GroupBy(p => p.Project(d)).ToDictionary(g => g.Key, g => g.Count()));
        var withheld = All.ToDictionary(d => d, d => counts[d].Where(c => c.Value < Statistics.Threshold).Select(c => c.Key).ToHashSet());
        var relations = Relations(counts);
        var finest = counts[Finest].Keys.Order(CellOrder.Instance).ToList();
        var parts = All.ToDictionary(d => d, d => finest.Select((cell, i) => (cell, i)).GroupBy(f => f.cell.Project(d)).ToDictionary(g => g.Key, g => g.Select(f => f.i).ToArray()));
        while (true)
        {
            WithholdUntilNoSumHasOneUnknown(relations, counts, withheld);
            // Sums solved together can still pin a cell down: withhold more until none below the threshold is.
            var members = All.SelectMany(d => counts[d].Keys.Order(CellOrder.Instance).Select(c => (Table: d, Cell: c))).ToList();
            var unprotected = members.Where(m => withheld[m.Table].Contains(m.Cell) && counts[m.Table][m.Cell] < Statistics.Threshold).ToList();
            var determined = EquationAudit.Determined(finest.Count,
                members.Where(m => !withheld[m.Table].Contains(m.Cell)).Select(m => parts[m.Table][m.Cell]).ToList(),
                unprotected.Select(m => parts[m.Table][m.Cell]).ToList());
            if (determined.Count == 0)
            {
                break;
            }
            foreach (var (table, cell) in determined.Select(i => unprotected[i]))
            {
                var shown = relations.Where(r => r.Contains((table, cell))).SelectMany(r => r).Where(m => !withheld[m.Table].Contains(m.Cell)).ToList();
                if (shown.Count == 0)
                {
                    // No sum with this cell shows anything: give up a shown cell that overlaps it.
                    shown = members.Where(m => !withheld[m.Table].Contains(m.Cell) && parts[m.Table][m.Cell].Intersect(parts[table][cell]).Any()).ToList();
                }
                if (shown.Count > 0)
                {
                    // None left means this round already gave up what pinned the cell down; the next audit checks.
                    var (giveUpTable, giveUpCell) = Smallest(shown, counts);
                    withheld[giveUpTable].Add(giveUpCell);
                }
            }
        }
        foreach (var d in All)
        {
            _tables[d] = new SuppressedTable(counts[d], withheld[d]);
        }
    }

    private const Dimensions Finest = Dimensions.Form | Dimensions.Nationality | Dimensions.Minor | Dimensions.Sector;

    private static void WithholdUntilNoSumHasOneUnknown(List<List<(Dimensions Table, Cell Cell)>> relations, Dictionary<Dimensions, Dictionary<Cell, int>> counts, Dictionary<Dimensions, HashSet<Cell>> withheld)
    {
        bool changed;
        do
        {
            changed = false;
            foreach (var members in relations)
            {
                if (members.Count(m => withheld[m.Table].Contains(m.Cell)) == 1)
                {
                    var (table, cell) = Smallest(members.Where(m => !withheld[m.Table].Contains(m.Cell)).ToList(), counts);
                    withheld[table].Add(cell);
                    changed = true;
                }
            }
        }
        while (changed);
    }

    /// <summary>The least informative cell to give up: the smallest count, finer tables first, ties broken the same way every time.</summary>
    private static (Dimensions Table, Cell Cell) Smallest(List<(Dimensions Table, Cell Cell)> cells, Dictionary<Dimensions, Dictionary<Cell, int>> counts) =>
        cells.OrderBy(m => counts[m.Table][m.Cell]).ThenByDescending(m => (int)m.Table).ThenBy(m => m.Cell, CellOrder.Instance).First();

    public SuppressedTable Table(Dimensions dimensions) => _tables[dimensions];

    /// <summary>Each total of a coarser table with its parts in the table one dimension finer, total first, in a fixed order.</summary>
    private static List<List<(Dimensions Table, Cell Cell)>> Relations(Dictionary<Dimensions, Dictionary<Cell, int>> counts)
    {
        var relations = new List<List<(Dimensions, Cell)>>();
        foreach (var finer in All)
        {
            foreach (var dropped in finer.Each())
            {
                var coarser = finer & ~dropped;
                foreach (var parts in counts[finer].Keys.GroupBy(c => c.Project(coarser)).OrderBy(g => g.Key, CellOrder.Instance))
                {
                    relations.Add([(coarser, parts.Key), .. parts.OrderBy(c => c, CellOrder.Instance).Select(c => (finer, c))]);
                }
            }
        }
        return relations;
    }

    private sealed class CellOrder : IComparer<Cell>
    {
        public static readonly CellOrder Instance = new();

        public int Compare(Cell a, Cell b) =>
            (a.Form, a.Minor, a.Sector).CompareTo((b.Form, b.Minor, b.Sector)) is var first and not 0 ? first : string.CompareOrdinal(a.Nationality, b.Nationality);
    }
}

public sealed record SuppressedTable(IReadOnlyDictionary<Cell, int> Counts, IReadOnlySet<Cell> Suppressed);
