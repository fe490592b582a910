using System.Globalization;

namespace FedAgg.Reporting;

/// <summary>A validated table: headers, rows padded to the header count, and which columns are numeric.</summary>
internal sealed class TableData
{
    private TableData(IReadOnlyList<string> headers, List<string[]> rows, bool[] numeric)
    {
        Headers = headers;
        Rows = rows;
        Numeric = numeric;
    }

    public IReadOnlyList<string> Headers { get; }

    public IReadOnlyList<string[]> Rows { get; }

    public bool[] Numeric { get; }

    public static TableData From(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, bool requireFullRows = false)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        var list = new List<string[]>();
        var index = 0;
        foreach (var row in rows)
        {
            var cells = row ?? [];
            if (cells.Count > headers.Count || (requireFullRows && cells.Count != headers.Count))
            {
                throw new ArgumentException($"Row {index} has {cells.Count} cells for {headers.Count} columns.", nameof(rows));
            }

            var padded = new string[headers.Count];
            for (var c = 0; c < padded.Length; c++)
            {
                padded[c] = c < cells.Count ? cells[c] ?? string.Empty : string.Empty;
            }

            list.Add(padded);
            index++;
        }

        var numeric = new bool[headers.Count];
        for (var c = 0; c < numeric.Length; c++)
        {
            var any = false;
            var all = true;
            foreach (var row in list)
            {
                if (row[c].Length == 0 || row[c] is "-" or "—" or "NaN" or "n/a")
                {
                    continue;
                }

                any = true;
                all &= IsNumber(row[c]);
            }

            numeric[c] = any && all;
        }

        return new TableData(headers, list, numeric);
    }

    /// <summary>A number, optionally with a unit-like suffix (%, ms, ×, s): "12", "-0.5", "1,234", "98.2 %", "3.1 ms".</summary>
    private static bool IsNumber(string cell)
    {
        var span = cell.AsSpan().Trim();
        var end = span.Length;
        while (end > 0 && (char.IsLetter(span[end - 1]) || span[end - 1] is '%' or '×' or ' ' or '/'))
        {
            end--;
        }

        return end > 0 && end >= span.Length - 4
            && double.TryParse(span[..end], NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out _);
    }
}
