namespace Ketenmesh.Registry.Domain;

/// <summary>
/// Which withheld cells of a year's tables the published cells pin down when all their sums are solved
/// together as one system of equations. Every cell of every table is a sum of cells of the finest table
/// (form × nationality × minor × sector); a combination that is absent is known to be zero, so the
/// unknowns are the finest cells present. A withheld cell is pinned down exactly when its sum is a
/// linear combination of published sums, which is decided by elimination over a large prime field
/// (exact integer arithmetic; a coincidence modulo the prime could only make it withhold more).
/// </summary>
public static class EquationAudit
{
    private const long Prime = 2_147_483_647;

    /// <param name="finest">The present cells of the finest table.</param>
    /// <param name="published">Cells that are shown, each as the indexes into <paramref name="finest"/> it sums.</param>
    /// <param name="protectedCells">Withheld cells that must stay unknown, each as the indexes it sums.</param>
    /// <returns>The positions in <paramref name="protectedCells"/> that the published cells pin down.</returns>
    public static List<int> Determined(int finest, IReadOnlyList<int[]> published, IReadOnlyList<int[]> protectedCells)
    {
        var rows = new List<long[]>();
        var pivotColumns = new List<int>();
        var pivotRowOf = new int[finest];
        Array.Fill(pivotRowOf, -1);
        foreach (var sum in published)
        {
            var row = new long[finest];
            foreach (var j in sum)
            {
                row[j] = 1;
            }
            // Reduce against the rows so far; a new pivot makes it a row of the basis.
            for (var r = 0; r < rows.Count; r++)
            {
                var f = row[pivotColumns[r]];
                if (f != 0)
                {
                    Subtract(row, rows[r], f);
                }
            }
            var pivot = Array.FindIndex(row, v => v != 0);
            if (pivot < 0)
            {
                continue;
            }
            Scale(row, Inverse(row[pivot]));
            // Keep the basis fully reduced: the new pivot column becomes zero in every earlier row.
            for (var r = 0; r < rows.Count; r++)
            {
                var f = rows[r][pivot];
                if (f != 0)
                {
                    Subtract(rows[r], row, f);
                }
            }
            pivotRowOf[pivot] = rows.Count;
            rows.Add(row);
            pivotColumns.Add(pivot);
        }

        var determined = new List<int>();
        for (var s = 0; s < protectedCells.Count; s++)
        {
            // Reduce the cell's sum by the basis: it is pinned down exactly when nothing remains.
            var vector = new long[finest];
            foreach (var j in protectedCells[s])
            {
                vector[j] = 1;
            }
            for (var r = 0; r < rows.Count; r++)
            {
                var f = vector[pivotColumns[r]];
                if (f != 0)
                {
                    Subtract(vector, rows[r], f);
                }
            }
            if (Array.TrueForAll(vector, v => v == 0))
            {
                determined.Add(s);
            }
        }
        return determined;
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
