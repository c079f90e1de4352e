using System.Globalization;
using System.Net;
using System.Text;

namespace Ketenmesh.OfficerConsole.Dashboard;

/// <summary>
/// A grouped bar chart of a <see cref="Breakdown"/> drawn on the server as SVG: no script, nothing fetched from
/// elsewhere, readable by a screen reader (a title and a description, and every bar's figure in its own title).
/// A withheld figure is drawn as an outlined, hatched stub marked "withheld", never as a bar of zero.
/// </summary>
public static class BarChart
{
    const int Width = 720;
    const int Height = 340;
    const int Left = 56;
    const int Right = 16;
    const int Top = 16;
    const int Bottom = 96;
    const int WithheldHeight = 18;

    // Distinguishable in colour-blind palettes (Okabe and Ito's), so a legend colour is never the only cue: every bar has a title.
    static readonly string[] Palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];

    public static string Svg(Breakdown breakdown, string id)
    {
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var max = Math.Max(1, breakdown.Cells.Values.Where(f => !f.IsWithheld).Select(f => f.Count!.Value).DefaultIfEmpty(0).Max());
        var step = NiceStep(max);
        var top = (int)Math.Ceiling(max / (double)step) * step;
        var groups = Math.Max(1, breakdown.Years.Count);
        var groupWidth = plotWidth / (double)groups;
        // At most 48 wide: one category in one year is a bar, not a floor.
        var barWidth = Math.Clamp((groupWidth - 12) / Math.Max(1, breakdown.Categories.Count), 2, 48);
        var withheld = breakdown.Cells.Values.Count(f => f.IsWithheld);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {Width} {Height}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc">""");
        svg.Append(CultureInfo.InvariantCulture, $"<title id=\"{id}-title\">{Text(breakdown.Title)} by registration year</title>");
        svg.Append(CultureInfo.InvariantCulture, $"<desc id=\"{id}-desc\">Persons registered per year by {Text(breakdown.Title.ToLowerInvariant())}; {withheld} figure{(withheld == 1 ? " is" : "s are")} withheld. The table below gives every figure.</desc>");
        svg.Append(CultureInfo.InvariantCulture, $"""<defs><pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#555" stroke-width="2"/></pattern></defs>""");

        // Axis and gridlines.
        for (var value = 0; value <= top; value += step)
        {
            var y = Top + plotHeight - plotHeight * value / (double)top;
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" x2="{Width - Right}" y1="{y:0.#}" y2="{y:0.#}" stroke="#ddd"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left - 6}" y="{y + 4:0.#}" text-anchor="end" font-size="12">{value}</text>""");
        }
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" x2="{Width - Right}" y1="{Top + plotHeight}" y2="{Top + plotHeight}" stroke="#333"/>""");

        for (var g = 0; g < breakdown.Years.Count; g++)
        {
            var year = breakdown.Years[g];
            var x0 = Left + g * groupWidth + (groupWidth - barWidth * breakdown.Categories.Count) / 2;
            for (var c = 0; c < breakdown.Categories.Count; c++)
            {
                var category = breakdown.Categories[c];
                var figure = breakdown.At(year, category);
                var x = x0 + c * barWidth;
                var label = $"{year}, {category}: {figure}";
                if (figure.IsWithheld)
                {
                    var y = Top + plotHeight - WithheldHeight;
                    svg.Append(CultureInfo.InvariantCulture, $"""<g class="withheld"><title>{Text(label)}</title><rect x="{x:0.#}" y="{y}" width="{barWidth - 1:0.#}" height="{WithheldHeight}" fill="url(#{id}-hatch)" stroke="#333" stroke-dasharray="3 2"/></g>""");
                }
                else
                {
                    var h = plotHeight * figure.Count!.Value / (double)top;
                    svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{x:0.#}" y="{Top + plotHeight - h:0.#}" width="{barWidth - 1:0.#}" height="{h:0.#}" fill="{Palette[c % Palette.Length]}"><title>{Text(label)}</title></rect>""");
                }
            }
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left + g * groupWidth + groupWidth / 2:0.#}" y="{Top + plotHeight + 16}" text-anchor="middle" font-size="12">{year}</text>""");
        }

        // Legend: every category's colour and name, and what the hatched stub means.
        var legendY = Top + plotHeight + 34;
        var legendX = (double)Left;
        for (var c = 0; c < breakdown.Categories.Count; c++)
        {
            var name = breakdown.Categories[c];
            var itemWidth = 22 + 7 * name.Length;
            if (legendX + itemWidth > Width - Right)
            {
                legendX = Left;
                legendY += 18;
            }
            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{legendX:0.#}" y="{legendY - 10}" width="12" height="12" fill="{Palette[c % Palette.Length]}"/><text x="{legendX + 16:0.#}" y="{legendY}" font-size="12">{Text(name)}</text>""");
            legendX += itemWidth;
        }
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{Left}" y="{legendY + 8}" width="12" height="12" fill="url(#{id}-hatch)" stroke="#333" stroke-dasharray="3 2"/><text x="{Left + 16}" y="{legendY + 18}" font-size="12">withheld: not published, so that no person can be recognised</text>""");
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, so that about five gridlines cover the largest figure.</summary>
    static int NiceStep(int max)
    {
        var raw = Math.Max(1, max / 5.0);
        var power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = raw / power <= 1 ? 1 : raw / power <= 2 ? 2 : raw / power <= 5 ? 5 : 10;
        return Math.Max(1, (int)(step * power));
    }

    static string Text(string value) => WebUtility.HtmlEncode(value);
}
