using System.Text;

namespace FedAgg.Reporting;

/// <summary>GitHub-flavoured Markdown tables.</summary>
public static class MarkdownTable
{
    /// <summary>
    /// A pipe table with columns padded for reading as plain text; numeric columns right-aligned (<c>---:</c>).
    /// In cells, <c>\ | &lt; &gt;</c> are backslash-escaped (so no cell turns into markup or a column break) and
    /// line breaks become <c>&lt;br&gt;</c>. Ends with a line feed.
    /// </summary>
    /// <exception cref="ArgumentException">A row has more cells than there are headers (shorter rows are padded).</exception>
    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var table = TableData.From(headers, rows);
        var columns = table.Headers.Count;
        if (columns == 0)
        {
            return string.Empty;
        }

        var head = table.Headers.Select(Cell).ToArray();
        var body = table.Rows.Select(r => r.Select(Cell).ToArray()).ToArray();
        var widths = new int[columns];
        for (var c = 0; c < columns; c++)
        {
            widths[c] = Math.Max(3, Math.Max(head[c].Length, body.Select(r => r[c].Length).DefaultIfEmpty(0).Max()));
        }

        var text = new StringBuilder();
        Line(text, head, widths, table.Numeric);
        text.Append('|');
        for (var c = 0; c < columns; c++)
        {
            text.Append(' ').Append('-', widths[c] - (table.Numeric[c] ? 1 : 0)).Append(table.Numeric[c] ? ":" : string.Empty).Append(" |");
        }

        text.Append('\n');
        foreach (var row in body)
        {
            Line(text, row, widths, table.Numeric);
        }

        return text.ToString();
    }

    private static void Line(StringBuilder text, string[] cells, int[] widths, bool[] right)
    {
        text.Append('|');
        for (var c = 0; c < cells.Length; c++)
        {
            text.Append(' ').Append(right[c] ? cells[c].PadLeft(widths[c]) : cells[c].PadRight(widths[c])).Append(" |");
        }

        text.Append('\n');
    }

    private static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '\\' or '|' or '<' or '>':
                    text.Append('\\').Append(c);
                    break;
                case '\r':
                    text.Append("<br>");
                    if (i + 1 < value.Length && value[i + 1] == '\n')
                    {
                        i++;
                    }

                    break;
                case '\n':
                    text.Append("<br>");
                    break;
                default:
                    text.Append(c);
                    break;
            }
        }

        return text.ToString();
    }
}
