namespace Ketenmesh.OfficerConsole.Grants;

/// <summary>One line of a diff: kept, only in the older version, or only in the newer.</summary>
public sealed record DiffLine(char Kind, string Text);

/// <summary>A line diff of two texts (longest common subsequence): small grants, so the quadratic table is fine.</summary>
public static class LineDiff
{
    public static IReadOnlyList<DiffLine> Of(string older, string newer)
    {
        var a = older.Split('\n');
        var b = newer.Split('\n');
        var common = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var lines = new List<DiffLine>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                lines.Add(new DiffLine(' ', a[x++]));
                y++;
            }
            else if (x < a.Length && (y == b.Length || common[x + 1, y] >= common[x, y + 1]))
            {
                // What went comes before what came, as diffs read.
                lines.Add(new DiffLine('-', a[x++]));
            }
            else
            {
                lines.Add(new DiffLine('+', b[y++]));
            }
        }

        return lines;
    }
}
