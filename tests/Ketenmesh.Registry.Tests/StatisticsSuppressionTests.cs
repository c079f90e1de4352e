using Chain.Common.V1;
using Chain.Registry.V1;
using Ketenmesh.Registry.Domain;

namespace Ketenmesh.Registry.Tests;

/// <summary>
/// Small-cell suppression against an attacker who holds every table of a year (all 30 breakdowns) and
/// works out withheld cells from totals: wherever a total and all but one of its parts are known, the
/// last part is known too, and so on until nothing new follows.
/// </summary>
public sealed class StatisticsSuppressionTests
{
    private static readonly FormOfExploitation[] Forms = [FormOfExploitation.Sexual, FormOfExploitation.Labour, FormOfExploitation.Criminal];
    private static readonly string[] Nationalities = ["NL", "NG", "RO", "HU"];
    private static readonly Sector[] Sectors = [Sector.SexIndustry, Sector.AgricultureHorticulture, Sector.Unspecified];
    private static readonly Sex[] Sexes = [Sex.Female, Sex.Male, Sex.Unknown];
    private static readonly AgeBand[] AgeBands = [AgeBand.From18To23, AgeBand.From24To30, AgeBand.From15To17, AgeBand.From31To40, AgeBand.Unknown];
    private static readonly AangifteStatus[] Aangiftes = [AangifteStatus.Unknown, AangifteStatus.Made, AangifteStatus.InReflectionPeriod];
    private static readonly Dimensions[] AllTables = [.. YearTables.Published];

    private static List<Cell> People(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => new Cell(
            Forms[Skewed(random, Forms.Length)], Nationalities[Skewed(random, Nationalities.Length)], random.Next(4) == 0, Sectors[Skewed(random, Sectors.Length)],
            Sexes[Skewed(random, Sexes.Length)], AgeBands[Skewed(random, AgeBands.Length)], Aangiftes[Skewed(random, Aangiftes.Length)])).ToList();

    [Fact]
    public void The_tables_are_every_breakdown_of_either_family_and_never_a_mix()
    {
        Assert.Equal(30, AllTables.Length);
        Assert.Contains(Dimensions.Form | Dimensions.Sex | Dimensions.AgeBand | Dimensions.Aangifte, AllTables);
        Assert.Contains(Dimensions.Form | Dimensions.Nationality | Dimensions.Minor | Dimensions.Sector, AllTables);
        Assert.DoesNotContain(Dimensions.Nationality | Dimensions.Sex, AllTables);
    }

    // Realistic skew: most people in a few cells, many small cells in the tail.
    private static int Skewed(Random random, int length) => Math.Min(length - 1, (int)Math.Floor(-Math.Log(1 - random.NextDouble()) * 1.2));

    [Fact]
    public void No_cell_below_the_threshold_can_be_worked_out_from_any_combination_of_a_years_tables()
    {
        var random = new Random(20261130);
        var smallCellsSeen = 0;
        for (var round = 0; round < 300; round++)
        {
            var tables = new YearTables(People(random, random.Next(8, 120)));
            var known = Attack(tables);
            foreach (var dimensions in AllTables)
            {
                foreach (var (cell, count) in tables.Table(dimensions).Counts.Where(c => c.Value < Statistics.Threshold))
                {
                    smallCellsSeen++;
                    Assert.True(tables.Table(dimensions).Suppressed.Contains(cell), $"round {round}: small cell {cell} in table {dimensions} is published");
                    Assert.False(known.ContainsKey((dimensions, cell)), $"round {round}: small cell {cell} ({count}) in table {dimensions} can be worked out from totals");
                }
            }
        }
        Assert.True(smallCellsSeen > 1000, "the random years should hold many small cells");
    }

    [Fact]
    public void No_cell_below_the_threshold_can_be_solved_for_from_all_of_a_years_sums_at_once()
    {
        // A stronger attacker: every published cell of the thirty tables as one system of linear
        // equations (floating-point elimination, independent of the registry's own audit).
        var random = new Random(11);
        var smallCellsSeen = 0;
        for (var round = 0; round < 150; round++)
        {
            var tables = new YearTables(People(random, random.Next(8, 80)));
            var (unknowns, solvable) = SolveAll(tables);
            for (var i = 0; i < unknowns.Count; i++)
            {
                var (dimensions, cell) = unknowns[i];
                if (tables.Table(dimensions).Counts[cell] < Statistics.Threshold)
                {
                    smallCellsSeen++;
                    Assert.False(solvable[i], $"round {round}: small cell {cell} in table {dimensions} is pinned down by the published sums");
                }
            }
        }
        Assert.True(smallCellsSeen > 1000, "the random years should hold many small cells");
    }

    /// <summary>Which withheld cells the published cells determine, by reduced row echelon form over the withheld cells.</summary>
    private static (List<(Dimensions, Cell)> Unknowns, bool[] Solvable) SolveAll(YearTables tables)
    {
        var unknowns = AllTables.SelectMany(d => tables.Table(d).Suppressed.Select(c => (d, c))).ToList();
        var index = unknowns.Select((u, i) => (u, i)).ToDictionary(x => x.u, x => x.i);
        var rows = new List<double[]>();
        foreach (var finer in AllTables)
        {
            foreach (var dropped in Enum.GetValues<Dimensions>().Where(d => d != Dimensions.None && finer.HasFlag(d)))
            {
                var coarser = finer & ~dropped;
                foreach (var group in tables.Table(finer).Counts.Keys.GroupBy(c => c.Project(coarser)))
                {
                    var row = new double[unknowns.Count];
                    Add(row, (coarser, group.Key), 1);
                    foreach (var part in group)
                    {
                        Add(row, (finer, part), -1);
                    }
                    if (row.Any(v => v != 0))
                    {
                        rows.Add(row);
                    }
                }
            }
        }
        var solvable = new bool[unknowns.Count];
        var m = rows.ToArray();
        var rank = 0;
        var pivotRow = Enumerable.Repeat(-1, unknowns.Count).ToArray();
        for (var column = 0; column < unknowns.Count && rank < m.Length; column++)
        {
            var pivot = Enumerable.Range(rank, m.Length - rank).FirstOrDefault(r => Math.Abs(m[r][column]) > 1e-9, -1);
            if (pivot < 0)
            {
                continue;
            }
            (m[rank], m[pivot]) = (m[pivot], m[rank]);
            var scale = m[rank][column];
            for (var k = 0; k < unknowns.Count; k++)
            {
                m[rank][k] /= scale;
            }
            for (var r = 0; r < m.Length; r++)
            {
                if (r != rank && Math.Abs(m[r][column]) > 1e-9)
                {
                    var factor = m[r][column];
                    for (var k = 0; k < unknowns.Count; k++)
                    {
                        m[r][k] -= factor * m[rank][k];
                    }
                }
            }
            pivotRow[column] = rank++;
        }
        for (var column = 0; column < unknowns.Count; column++)
        {
            // Determined exactly when its pivot row mentions no other unknown.
            solvable[column] = pivotRow[column] >= 0 && Enumerable.Range(0, unknowns.Count).All(k => k == column || Math.Abs(m[pivotRow[column]][k]) < 1e-9);
        }
        return (unknowns, solvable);

        void Add(double[] row, (Dimensions, Cell) member, double sign)
        {
            if (index.TryGetValue(member, out var i))
            {
                row[i] += sign;
            }
        }
    }

    [Fact]
    public void Without_the_complementary_rules_the_same_attacker_does_recover_small_cells()
    {
        // The attack is real: publishing every cell of five or more and withholding only the small ones leaks.
        var random = new Random(7);
        var recovered = 0;
        for (var round = 0; round < 50; round++)
        {
            var people = People(random, random.Next(8, 120));
            var naive = AllTables.ToDictionary(d => d, d => people.GroupBy(p => p.Project(d)).ToDictionary(g => g.Key, g => g.Count()));
            var known = Attack(AllTables.ToDictionary(d => d, d => (IReadOnlyDictionary<Cell, int>)naive[d]), d => naive[d].Where(c => c.Value < Statistics.Threshold).Select(c => c.Key).ToHashSet());
            recovered += AllTables.Sum(d => naive[d].Count(c => c.Value < Statistics.Threshold && known.ContainsKey((d, c.Key))));
        }
        Assert.True(recovered > 0);
    }

    [Fact]
    public void The_same_year_and_breakdown_always_withhold_the_same_cells()
    {
        var people = People(new Random(3), 90);
        var first = new YearTables(people).Table(Dimensions.Form | Dimensions.Nationality).Suppressed;
        var shuffled = people.OrderBy(_ => Guid.NewGuid()).ToList();
        var again = new YearTables(shuffled);
        again.Table(Dimensions.Sector | Dimensions.Minor);
        Assert.Equal(first.OrderBy(c => c.ToString()), again.Table(Dimensions.Form | Dimensions.Nationality).Suppressed.OrderBy(c => c.ToString()));
    }

    private static Dictionary<(Dimensions, Cell), int> Attack(YearTables tables) =>
        Attack(AllTables.ToDictionary(d => d, d => tables.Table(d).Counts), d => tables.Table(d).Suppressed);

    /// <summary>Every value that follows from the published cells by "a total is the sum of its parts".</summary>
    private static Dictionary<(Dimensions, Cell), int> Attack(Dictionary<Dimensions, IReadOnlyDictionary<Cell, int>> counts, Func<Dimensions, IReadOnlySet<Cell>> withheld)
    {
        var known = new Dictionary<(Dimensions, Cell), int>();
        foreach (var (dimensions, cells) in counts)
        {
            var hidden = withheld(dimensions);
            foreach (var (cell, count) in cells.Where(c => !hidden.Contains(c.Key)))
            {
                known[(dimensions, cell)] = count;
            }
        }
        var relations = new List<((Dimensions, Cell) Total, List<(Dimensions, Cell)> Parts)>();
        foreach (var dimensions in AllTables)
        {
            foreach (var dropped in Enum.GetValues<Dimensions>().Where(d => d != Dimensions.None && dimensions.HasFlag(d)))
            {
                var coarser = dimensions & ~dropped;
                foreach (var total in counts[coarser].Keys)
                {
                    relations.Add(((coarser, total), counts[dimensions].Keys.Where(c => c.Project(coarser) == total).Select(c => (dimensions, c)).ToList()));
                }
            }
        }
        bool learned;
        do
        {
            learned = false;
            foreach (var (total, parts) in relations)
            {
                var unknownParts = parts.Where(p => !known.ContainsKey(p)).ToList();
                if (known.TryGetValue(total, out var sum) && unknownParts.Count == 1)
                {
                    known[unknownParts[0]] = sum - parts.Where(p => p != unknownParts[0]).Sum(p => known[p]);
                    learned = true;
                }
                else if (!known.ContainsKey(total) && unknownParts.Count == 0)
                {
                    known[total] = parts.Sum(p => known[p]);
                    learned = true;
                }
            }
        }
        while (learned);
        return known;
    }
}
