namespace Ketenmesh.Registry.Domain;

/// <summary>
/// Which withheld cells of a year's tables the published cells pin down when all their sums are solved
/// together as one system of equations. Every cell of a family's tables is a sum of cells of the
/// family's finest table (form × nationality × minor × sector; form × sex × age band × aangifte); a
/// combination that is absent there is known to be zero, so the unknowns are the finest cells present.
/// The families share some cells (the year total, the breakdown by form): whatever combination of those
/// one family's sums pin down, the other family knows too, and so on until neither learns more. A withheld cell is pinned down exactly when its sum is a
/// linear combination of published sums, which is decided by elimination over a large prime field
/// (exact integer arithmetic; a coincidence modulo the prime could only make it withhold more).
/// </summary>
public static class EquationAudit
{
    private const long Prime = 2_147_483_647;

    /// <summary>One family of tables.</summary>
    /// <param name="Finest">The number of present cells of the family's finest table: its unknowns.</param>
    /// <param name="Published">Cells that are shown, each as the indexes into the finest cells it sums.</param>
    /// <param name="Protected">Withheld cells that must stay unknown, each as the indexes it sums.</param>
    /// <param name="Shared">The cells every family has, in the same order in every family, each as the indexes it sums here.</param>
    public sealed record Family(int Finest, IReadOnlyList<int[]> Published, IReadOnlyList<int[]> Protected, IReadOnlyList<int[]> Shared);

    /// <returns>Per family, the positions in its <see cref="Family.Protected"/> that all published cells together pin down.</returns>
    public static List<List<int>> Determined(IReadOnlyList<Family> families)
    {
        var bases = families.Select(f =>
        {
            var basis = new Basis();
            foreach (var sum in f.Published)
            {
                basis.Add(Vector(f.Finest, sum));
            }
            return basis;
        }).ToList();
        // What one family pins down of the shared cells (any combination of them) the others learn, until none learns more.
        bool learned;
        do
        {
            learned = false;
            for (var from = 0; from < families.Count; from++)
            {
                var combinations = Combinations(bases[from], families[from].Shared.Select(s => Vector(families[from].Finest, s)).ToList());
                for (var to = 0; to < families.Count; to++)
                {
                    if (to == from)
                    {
                        continue;
                    }
                    foreach (var lambda in combinations)
                    {
                        var row = new long[families[to].Finest];
                        for (var c = 0; c < lambda.Length; c++)
                        {
                            if (lambda[c] != 0)
                            {
                                foreach (var j in families[to].Shared[c])
                                {
                                    row[j] = Mod(row[j] + lambda[c]);
                                }
                            }
                        }
                        learned |= bases[to].Add(row);
                    }
                }
            }
        }
        while (learned);
        return families.Select((f, i) => f.Protected.Select((cell, s) => (cell, s)).Where(p => bases[i].Spans(Vector(f.Finest, p.cell))).Select(p => p.s).ToList()).ToList();
    }

    private static long[] Vector(int length, int[] sum)
    {
        var vector = new long[length];
        foreach (var j in sum)
        {
            vector[j] = 1;
        }
        return vector;
    }

    /// <summary>A basis of the combinations λ with Σ λᵢ·vectorsᵢ in the span of <paramref name="basis"/>.</summary>
    private static List<long[]> Combinations(Basis basis, List<long[]> vectors)
    {
        var rows = new List<(long[] Residual, long[] Lambda, int Pivot)>();
        var combinations = new List<long[]>();
        for (var c = 0; c < vectors.Count; c++)
        {
            var residual = basis.Reduce(vectors[c]);
            var lambda = new long[vectors.Count];
            lambda[c] = 1;
            foreach (var (row, rowLambda, pivot) in rows)
            {
                var f = residual[pivot];
                if (f != 0)
                {
                    Subtract(residual, row, f);
                    Subtract(lambda, rowLambda, f);
                }
            }
            var first = Array.FindIndex(residual, v => v != 0);
            if (first < 0)
            {
                combinations.Add(lambda);
                continue;
            }
            var inverse = Inverse(residual[first]);
            Scale(residual, inverse);
            Scale(lambda, inverse);
            rows.Add((residual, lambda, first));
        }
        return combinations;
    }

    /// <summary>
    /// Rows in reduced echelon form: each has a pivot column that is zero in every other row, so reducing
    /// a vector by each row once leaves nothing exactly when the rows span it.
    /// </summary>
    private sealed class Basis
    {
        private readonly List<(long[] Row, int Pivot)> _rows = [];

        /// <returns>True when the row was not in the span yet.</returns>
        public bool Add(long[] row)
        {
            var reduced = Reduce(row);
            var pivot = Array.FindIndex(reduced, v => v != 0);
            if (pivot < 0)
            {
                return false;
            }
            Scale(reduced, Inverse(reduced[pivot]));
            // Keep the basis fully reduced: the new pivot column becomes zero in every earlier row, so a
            // reduction only ever subtracts for the pivots it starts with and fills nothing in.
            foreach (var (earlier, _) in _rows)
            {
                var f = earlier[pivot];
                if (f != 0)
                {
                    Subtract(earlier, reduced, f);
                }
            }
            _rows.Add((reduced, pivot));
            return true;
        }

        public long[] Reduce(long[] vector)
        {
            var reduced = (long[])vector.Clone();
            foreach (var (row, pivot) in _rows)
            {
                var f = reduced[pivot];
                if (f != 0)
                {
                    Subtract(reduced, row, f);
                }
            }
            return reduced;
        }

        public bool Spans(long[] vector) => Array.TrueForAll(Reduce(vector), v => v == 0);
    }

    private static void Subtract(long[] target, long[] row, long factor)
    {
        for (var k = 0; k < target.Length; k++)
        {
            if (row[k] != 0)
            {
                target[k] = Mod(target[k] - factor * row[k] % Prime);
            }
        }
    }

    private static void Scale(long[] row, long factor)
    {
        for (var k = 0; k < row.Length; k++)
        {
            row[k] = row[k] * factor % Prime;
        }
    }

    private static long Mod(long value) => (value % Prime + Prime) % Prime;

    // Fermat: a^(p-2) is a's inverse modulo a prime p.
    private static long Inverse(long value)
    {
        long result = 1, power = Mod(value), exponent = Prime - 2;
        while (exponent > 0)
        {
            if ((exponent & 1) == 1)
            {
                result = result * power % Prime;
            }
            power = power * power % Prime;
            exponent >>= 1;
        }
        return result;
    }
}
