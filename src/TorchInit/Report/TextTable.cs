using System.Net;
using System.Text;

namespace TorchInit;

/// <summary>Renders the reports' tables: aligned plain text for consoles, an HTML table for notebooks.</summary>
internal static class TextTable
{
    /// <summary>Aligned columns separated by two spaces; the last column is not padded (nor is its rule under the header, past <paramref name="lastRule"/>).</summary>
    public static void AppendText(StringBuilder sb, string[] header, bool[] rightAligned, IReadOnlyList<string[]> rows, int? lastRule = null)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        void Line(string[] cells)
        {
            for (int i = 0; i < cells.Length; i++)
            {
                if (i > 0) sb.Append("  ");
                sb.Append(rightAligned[i] ? cells[i].PadLeft(widths[i]) : i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i]));
            }
            sb.AppendLine();
        }
        Line(header);
        Line(widths.Select((w, i) => new string('-', i == widths.Length - 1 && lastRule is int n ? Math.Min(n, w) : w)).ToArray());
        foreach (var row in rows) Line(row);
    }

    /// <summary>An HTML table with the same cells, HTML-encoded.</summary>
    public static void AppendHtml(StringBuilder sb, string cssClass, string[] header, bool[] rightAligned, IReadOnlyList<string[]> rows)
    {
        sb.Append("<table class=\"").Append(cssClass).Append("\">\n<thead><tr>");
        foreach (var h in header) sb.Append("<th>").Append(WebUtility.HtmlEncode(h)).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            for (int i = 0; i < row.Length; i++)
                sb.Append(rightAligned[i] ? "<td style=\"text-align:right\">" : "<td>").Append(WebUtility.HtmlEncode(row[i])).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
    }
}
