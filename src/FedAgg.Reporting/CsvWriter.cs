using System.Text;

namespace FedAgg.Reporting;

/// <summary>CSV as RFC 4180 defines it.</summary>
public static class CsvWriter
{
    /// <summary>
    /// A header line, then one line per row, each ended by CRLF. A field containing a comma, a double quote, CR or
    /// LF is enclosed in double quotes with its quotes doubled; other fields are written as they are (null as empty).
    /// Values are not altered otherwise (spreadsheets may treat a leading <c>=</c> as a formula).
    /// </summary>
    /// <exception cref="ArgumentException">A row's cell count differs from the header count (RFC 4180: every record has the same number of fields).</exception>
    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var table = TableData.From(headers, rows, requireFullRows: true);
        var text = new StringBuilder();
        Record(text, table.Headers);
        foreach (var row in table.Rows)
        {
            Record(text, row);
        }

        return text.ToString();
    }

    private static void Record(StringBuilder text, IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            var field = fields[i] ?? string.Empty;
            // A lone empty field is quoted so the record is not an empty line.
            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (fields.Count == 1 && field.Length == 0))
            {
                text.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                text.Append(field);
            }
        }

        text.Append("\r\n");
    }
}
