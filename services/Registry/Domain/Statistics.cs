using Chain.Common.V1;
using Chain.Registry.V1;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// Counts for the National Rapporteur: persons (after linkage and merges, so nobody twice) by
/// registration year × form × nationality × minor × sector, or by year × form × sex × age band ×
/// aangifte. Only counts leave; a count below <see cref="Threshold"/> is withheld, and so is whatever
/// would let it be worked out again (docs/adr/0005). Registrations closed as not a victim are no
/// victims and are not counted.
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
            problems.Add(("group_by", "name each dimension once: YEAR, FORM, NATIONALITY, MINOR, SECTOR, SEX, AGE_BAND, AANGIFTE."));
        }
        else if (!YearTables.Published.Contains(DimensionsExtensions.Below(request.GroupBy)))
        {
            problems.Add(("group_by", "NATIONALITY, MINOR and SECTOR do not combine with SEX, AGE_BAND and AANGIFTE; ask for each family apart (FORM and YEAR go with both)."));
        }
        InvalidRequest.ThrowIfAny(problems);

        var from = new DateTime(request.YearFrom, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var until = new DateTime(request.YearTo + 1, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var records = await db.Registrations.AsNoTracking()
            .Where(r => r.RegisteredAt >= from && r.RegisteredAt < until)
            .Select(r => r.Data).ToListAsync(cancellationToken);
        var facts = records.Select(Registration.Parser.ParseFrom)
            .Where(Counted)
            .Select(r => new Fact(r.RegisteredAt.ToDateTime().Year, Cell.Of(r)))
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
            // The cell is projected on the dimensions asked (Cell.Project): the others hold their defaults,
            // which the contract reads as "not grouped by".
            var published = new StatisticsCell
            {
                Year = year, Suppressed = suppressed, Count = suppressed ? 0 : count,
                Form = cell.Form, NationalityCountryCode = cell.Nationality, Sector = cell.Sector,
                Sex = cell.Sex, AgeBand = cell.AgeBand, AangifteStatus = cell.Aangifte,
            };
            // Minor has presence: false is an answer (adults), so it is set only when grouped by.
            if (dimensions.HasFlag(Dimensions.Minor))
            {
                published.Minor = cell.Minor;
            }
            response.Cells.Add(published);
        }
        return response;
    }

    /// <summary>
    /// Whether a registration counts: a merged one lives on in the registration it was merged into, and
    /// one closed as not a victim never was one. Closed for any other reason (care completed, returned,
    /// left, no contact) the person was still a (possible) victim that year and counts.
    /// </summary>
    /// <remarks>Source: seeds/001…txt L5404–5405: "In 2011 waren 1.222 (mogelijke) slachtoffers bij CoMensha
    /// geregistreerd": the Rapporteur counts (possible) victims, and a person assessed as no victim of
    /// trafficking is none, not even a possible one.</remarks>
    public static bool Counted(Registration registration) =>
        registration.ClosureReason is not (RegistrationClosureReason.Merged or RegistrationClosureReason.NotAVictim);

    private static int CompareCells((int Year, Cell Cell) a, (int Year, Cell Cell) b) =>
        a.Year != b.Year ? a.Year.CompareTo(b.Year) : CellOrder.Instance.Compare(a.Cell, b.Cell);

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
    Sex = 16,
    AgeBand = 32,
    Aangifte = 64,
}

public static class DimensionsExtensions
{
    public static Dimensions Below(IEnumerable<StatisticsDimension> groupBy) => groupBy.Aggregate(Dimensions.None, (all, d) => all | d switch
    {
        StatisticsDimension.Form => Dimensions.Form,
        StatisticsDimension.Nationality => Dimensions.Nationality,
        StatisticsDimension.Minor => Dimensions.Minor,
        StatisticsDimension.Sector => Dimensions.Sector,
        StatisticsDimension.Sex => Dimensions.Sex,
        StatisticsDimension.AgeBand => Dimensions.AgeBand,
        StatisticsDimension.Aangifte => Dimensions.Aangifte,
        _ => Dimensions.None,
    });

    public static IEnumerable<Dimensions> Each(this Dimensions dimensions) =>
        Enum.GetValues<Dimensions>().Where(d => d != Dimensions.None && dimensions.HasFlag(d));
}

/// <summary>One combination of dimension values; values of dimensions not broken down by are left at their defaults.</summary>
public readonly record struct Cell(FormOfExploitation Form, string Nationality, bool Minor, Sector Sector,
    Sex Sex = Sex.Unspecified, AgeBand AgeBand = AgeBand.Unspecified, AangifteStatus Aangifte = AangifteStatus.Unspecified)
{
    /// <summary>A registration's values: whatever was not recorded counts as unknown, as the Rapporteur's "onbekend".</summary>
    public static Cell Of(Registration registration)
    {
        var person = registration.Person ?? new PersonProfile();
        return new(registration.Exploitation?.Form ?? FormOfExploitation.Unspecified, PersonRules.StatisticalNationality(person), person.Minor,
            registration.Exploitation?.Sector ?? Sector.Unspecified,
            person.Sex == Sex.Unspecified ? Sex.Unknown : person.Sex,
            BandOf(person),
            registration.AangifteStatus == AangifteStatus.Unspecified ? AangifteStatus.Unknown : registration.AangifteStatus);
    }

    /// <summary>The age at registration in the National Rapporteur's bands.</summary>
    /// <remarks>Source: seeds/001…txt L14128–14130: "Tabel B3.3 Leeftijdscategorieën [...] 0-14 jaar 15-17 jaar 18-23 jaar
    /// 24-30 jaar 31-40 jaar 41+ jaar" (and L14467–14469, the same bands for voluntary returns). The
    /// issue suggested under 12 and 12–17; the Rapporteur's own bands make the registry's figures
    /// comparable with the published ones.</remarks>
    public static AgeBand BandOf(PersonProfile person) => !person.HasAgeAtRegistration ? AgeBand.Unknown : person.AgeAtRegistration switch
    {
        <= 14 => AgeBand.Under15,
        <= 17 => AgeBand.From15To17,
        <= 23 => AgeBand.From18To23,
        <= 30 => AgeBand.From24To30,
        <= 40 => AgeBand.From31To40,
        _ => AgeBand.From41,
    };

    public Cell Project(Dimensions keep) => new(
        keep.HasFlag(Dimensions.Form) ? Form : FormOfExploitation.Unspecified,
        keep.HasFlag(Dimensions.Nationality) ? Nationality : "",
        keep.HasFlag(Dimensions.Minor) && Minor,
        keep.HasFlag(Dimensions.Sector) ? Sector : Sector.Unspecified,
        keep.HasFlag(Dimensions.Sex) ? Sex : Sex.Unspecified,
        keep.HasFlag(Dimensions.AgeBand) ? AgeBand : AgeBand.Unspecified,
        keep.HasFlag(Dimensions.Aangifte) ? Aangifte : AangifteStatus.Unspecified);
}

/// <summary>The one order of cells everything is decided in, so the same data always withholds the same cells.</summary>
public sealed class CellOrder : IComparer<Cell>
{
    public static readonly CellOrder Instance = new();

    public int Compare(Cell a, Cell b) =>
        (a.Form, a.Minor, a.Sector, a.Sex, a.AgeBand, a.Aangifte).CompareTo((b.Form, b.Minor, b.Sector, b.Sex, b.AgeBand, b.Aangifte)) is var first and not 0
            ? first
            : string.CompareOrdinal(a.Nationality, b.Nationality);
}

/// <summary>
/// All published tables of one registration year (every breakdown by form, nationality, minor and sector;
/// every breakdown by form, sex, age band and aangifte: thirty in all), with the cells each withholds,
/// decided together: a table and the one a dimension coarser are tied by
/// "this total is the sum of these parts", and in no such relation may exactly one member be withheld,
/// or it would be the total minus the rest (or the sum of the parts). Cells below the threshold are
/// withheld first; then, relation by relation, the smallest published member of any relation with one
/// withheld member is withheld too, until no relation gives anything away. Last, the equation audit
/// looks for small cells that all sums together still pin down, and a published member of a sum with
/// such a cell is withheld, until none is left (a realistic year of 1,711 people: about 150 ms).
/// </summary>
public sealed class YearTables
{
    /// <summary>The dimensions of the first family (the registry's original tables).</summary>
    public const Dimensions RegistrationFamily = Dimensions.Form | Dimensions.Nationality | Dimensions.Minor | Dimensions.Sector;

    /// <summary>The dimensions of the second family, the Rapporteur's tables of sex, age and aangifte (001 L14111, L14128, L14327), by form.</summary>
    public const Dimensions PersonFamily = Dimensions.Form | Dimensions.Sex | Dimensions.AgeBand | Dimensions.Aangifte;

    /// <summary>
    /// The breakdowns published: every subset of either family, never a mix (docs/adr/0012). Crossing all
    /// seven dimensions would make most cells of a year single persons and withhold nearly everything;
    /// the two families share the year total and the breakdown by form, and the audit solves them together.
    /// </summary>
    public static readonly IReadOnlyList<Dimensions> Published = Subsets(RegistrationFamily).Union(Subsets(PersonFamily)).Order().ToArray();

    private static readonly Dimensions[] All = [.. Published];
    private readonly Dictionary<Dimensions, SuppressedTable> _tables = [];

    public YearTables(IReadOnlyList<Cell> persons)
    {
        var counts = All.ToDictionary(d => d, d => persons.GroupBy(p => p.Project(d)).ToDictionary(g => g.Key, g => g.Count()));
        var withheld = All.ToDictionary(d => d, d => counts[d].Where(c => c.Value < Statistics.Threshold).Select(c => c.Key).ToHashSet());
        var relations = Relations(counts);
        // The unknowns of the audit: each family's finest table, whose absent cells everyone sees are zero.
        // The families share the cells of the year total and the breakdown by form (each the same count
        // in both), which is how what one family's sums give away reaches the other.
        var families = Families.Select(f => new FamilyCells(f, persons)).ToList();
        var shared = All.Where(d => (d & ~(RegistrationFamily & PersonFamily)) == Dimensions.None)
            .SelectMany(d => counts[d].Keys.Order(CellOrder.Instance).Select(c => (Table: d, Cell: c))).ToList();
        while (true)
        {
            WithholdUntilNoSumHasOneUnknown(relations, counts, withheld);
            // Sums solved together can still pin a cell down: withhold more until none below the threshold is.
            var audits = families.Select(f =>
            {
                var members = f.Tables.SelectMany(d => counts[d].Keys.Order(CellOrder.Instance).Select(c => (Table: d, Cell: c))).ToList();
                var unprotected = members.Where(m => withheld[m.Table].Contains(m.Cell) && counts[m.Table][m.Cell] < Statistics.Threshold).ToList();
                return (Family: f, Members: members, Unprotected: unprotected);
            }).ToList();
            var determined = EquationAudit.Determined(audits.Select(a => new EquationAudit.Family(
                a.Family.Finest,
                a.Members.Where(m => !withheld[m.Table].Contains(m.Cell)).Select(m => a.Family.Parts[m.Table][m.Cell]).ToList(),
                a.Unprotected.Select(m => a.Family.Parts[m.Table][m.Cell]).ToList(),
                shared.Select(m => a.Family.Parts[m.Table][m.Cell]).ToList())).ToList());
            if (determined.All(d => d.Count == 0))
            {
                break;
            }
            var before = withheld.Values.Sum(w => w.Count);
            foreach (var (audit, positions) in audits.Zip(determined))
            {
                foreach (var (table, cell) in positions.Select(i => audit.Unprotected[i]))
                {
                    var shown = relations.Where(r => r.Contains((table, cell))).SelectMany(r => r).Where(m => !withheld[m.Table].Contains(m.Cell)).ToList();
                    if (shown.Count == 0)
                    {
                        // No sum with this cell shows anything: give up a shown cell that overlaps it.
                        var parts = audit.Family.Parts;
                        shown = audit.Members.Where(m => !withheld[m.Table].Contains(m.Cell) && parts[m.Table][m.Cell].Intersect(parts[table][cell]).Any()).ToList();
                    }
                    if (shown.Count > 0)
                    {
                        // None left means this round already gave up what pinned the cell down; the next audit checks.
                        var (giveUpTable, giveUpCell) = Smallest(shown, counts);
                        withheld[giveUpTable].Add(giveUpCell);
                    }
                }
            }
            if (withheld.Values.Sum(w => w.Count) == before)
            {
                // Pinned down with every cell of its own family that touches it withheld: what pins it is
                // a combination of shared cells the other family's shown cells give away. Its smallest shown
                // cell goes (each round gives one up, so this ends).
                var stuck = audits.Zip(determined).Where(a => a.Second.Count > 0).Select(a => a.First.Family).ToHashSet();
                var others = audits.Where(a => !stuck.Contains(a.Family)).SelectMany(a => a.Members).Where(m => !withheld[m.Table].Contains(m.Cell)).ToList();
                var candidates = others.Count > 0 ? others : audits.SelectMany(a => a.Members).Where(m => !withheld[m.Table].Contains(m.Cell)).ToList();
                if (candidates.Count == 0)
                {
                    throw new InvalidOperationException("The equation audit pins down a small cell while nothing is shown.");
                }
                var (table, cell) = Smallest(candidates, counts);
                withheld[table].Add(cell);
            }
        }
        foreach (var d in All)
        {
            _tables[d] = new SuppressedTable(counts[d], withheld[d]);
        }
    }

    private static readonly Dimensions[] Families = [RegistrationFamily, PersonFamily];

    private static IEnumerable<Dimensions> Subsets(Dimensions family) =>
        Enumerable.Range(0, (int)(RegistrationFamily | PersonFamily) + 1).Select(i => (Dimensions)i).Where(d => (d & ~family) == Dimensions.None);

    /// <summary>One family's tables, each cell as the cells of the family's finest table it sums (indexes in a fixed order).</summary>
    private sealed class FamilyCells
    {
        public FamilyCells(Dimensions family, IReadOnlyList<Cell> persons)
        {
            Tables = All.Where(d => (d & ~family) == Dimensions.None).ToArray();
            var finest = persons.Select(p => p.Project(family)).Distinct().Order(CellOrder.Instance).ToList();
            Finest = finest.Count;
            Parts = Tables.ToDictionary(d => d, d => finest.Select((cell, i) => (cell, i)).GroupBy(f => f.cell.Project(d)).ToDictionary(g => g.Key, g => g.Select(f => f.i).ToArray()));
        }

        public Dimensions[] Tables { get; }

        public int Finest { get; }

        public Dictionary<Dimensions, Dictionary<Cell, int[]>> Parts { get; }
    }

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
}

public sealed record SuppressedTable(IReadOnlyDictionary<Cell, int> Counts, IReadOnlySet<Cell> Suppressed);
