using System.Text;

namespace FedAgg.Reporting;

/// <summary>
/// A self-contained HTML report built block by block: one document with inline CSS and inline SVG charts, no
/// scripts and no external references, so it opens from disk anywhere. Every string given is HTML-escaped except
/// <see cref="RawHtml"/>'s. The markup is also well-formed XML (void elements self-closed), so tools can parse it.
/// </summary>
public sealed class HtmlReport
{
    private const string Style =
        ":root{color-scheme:light}" +
        "body{margin:0;background:#f8fafc;color:#1f2937;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;font-size:15px;line-height:1.5}" +
        "main{max-width:1120px;margin:0 auto;padding:28px 32px 56px}" +
        "h1{font-size:1.75rem;margin:0 0 1rem;color:#111827}" +
        "h2{font-size:1.3rem;margin:2.2rem 0 .7rem;padding-bottom:.3rem;border-bottom:1px solid #e5e7eb;color:#111827}" +
        "h3,h4,h5,h6{font-size:1.05rem;margin:1.6rem 0 .5rem;color:#111827}" +
        "p{margin:.5rem 0 1rem;max-width:75ch}" +
        "table{border-collapse:collapse;margin:.6rem 0 1.4rem;font-size:.9rem;background:#fff;border:1px solid #e5e7eb}" +
        "th,td{padding:.35rem .75rem;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}" +
        "th{background:#f3f4f6;font-weight:600}" +
        "tbody tr:nth-child(even){background:#fafafa}" +
        ".num{text-align:right;font-variant-numeric:tabular-nums}" +
        "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1.5rem;margin:.6rem 0 1.4rem;padding:.75rem 1rem;background:#fff;border:1px solid #e5e7eb;border-radius:6px}" +
        "dl.kv dt{font-weight:600;color:#4b5563}dl.kv dd{margin:0;font-variant-numeric:tabular-nums}" +
        "figure.chart{margin:.6rem 0 1.4rem;padding:6px;background:#fff;border:1px solid #e5e7eb;border-radius:6px;display:inline-block;max-width:100%;box-sizing:border-box}" +
        "figure.chart svg{display:block;max-width:100%;height:auto}" +
        "footer{margin-top:3rem;color:#9ca3af;font-size:.8rem}";

    private readonly string _title;
    private readonly StringBuilder _body = new();

    /// <summary>Starts a report; <paramref name="title"/> becomes the page title and the first heading.</summary>
    public HtmlReport(string title)
    {
        _title = title ?? string.Empty;
    }

    /// <summary>A heading of <paramref name="level"/> 1…6 (default 2; the title is the level-1 heading).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="level"/> is outside 1…6.</exception>
    public HtmlReport Heading(string text, int level = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 6);
        _body.Append("<h").Append(level).Append('>');
        HtmlText.Append(_body, text);
        _body.Append("</h").Append(level).Append(">\n");
        return this;
    }

    /// <summary>A paragraph of plain text.</summary>
    public HtmlReport Paragraph(string text)
    {
        _body.Append("<p>");
        HtmlText.Append(_body, text);
        _body.Append("</p>\n");
        return this;
    }

    /// <summary>A list of name/value pairs (a two-column definition list).</summary>
    public HtmlReport KeyValues(IEnumerable<KeyValuePair<string, string>> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        _body.Append("<dl class=\"kv\">");
        foreach (var (key, value) in items)
        {
            _body.Append("<dt>");
            HtmlText.Append(_body, key);
            _body.Append("</dt><dd>");
            HtmlText.Append(_body, value);
            _body.Append("</dd>");
        }

        _body.Append("</dl>\n");
        return this;
    }

    /// <summary>A table; columns whose cells all read as numbers are right-aligned.</summary>
    /// <exception cref="ArgumentException">A row has more cells than there are headers (shorter rows are padded with empty cells).</exception>
    public HtmlReport Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var table = TableData.From(headers, rows);
        _body.Append("<table><thead><tr>");
        for (var c = 0; c < table.Headers.Count; c++)
        {
            _body.Append(table.Numeric[c] ? "<th class=\"num\">" : "<th>");
            HtmlText.Append(_body, table.Headers[c]);
            _body.Append("</th>");
        }

        _body.Append("</tr></thead><tbody>");
        foreach (var row in table.Rows)
        {
            _body.Append("<tr>");
            for (var c = 0; c < row.Length; c++)
            {
                _body.Append(table.Numeric[c] ? "<td class=\"num\">" : "<td>");
                HtmlText.Append(_body, row[c]);
                _body.Append("</td>");
            }

            _body.Append("</tr>");
        }

        _body.Append("</tbody></table>\n");
        return this;
    }

    /// <summary>A line chart (see <see cref="SvgCharts.Render(LineChart)"/>).</summary>
    public HtmlReport Chart(LineChart chart) => Figure(SvgCharts.Render(chart));

    /// <summary>A bar chart (see <see cref="SvgCharts.Render(BarChart)"/>).</summary>
    public HtmlReport Chart(BarChart chart) => Figure(SvgCharts.Render(chart));

    /// <summary>Markup inserted as is. The caller vouches that it is safe and self-contained; keep it well-formed XML to keep the report parseable.</summary>
    public HtmlReport RawHtml(string trustedHtml)
    {
        _body.Append(trustedHtml).Append('\n');
        return this;
    }

    /// <summary>The whole document: inline CSS, no scripts, no external URLs.</summary>
    public string Render()
    {
        var html = new StringBuilder(_body.Length + Style.Length + 512);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
            .Append("<meta name=\"generator\" content=\"FedAgg.Reporting\"/>\n<title>");
        HtmlText.Append(html, _title);
        html.Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n<main>\n<h1>");
        HtmlText.Append(html, _title);
        html.Append("</h1>\n").Append(_body).Append("<footer>Generated by FedAgg.Reporting.</footer>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>Writes <see cref="Render"/> to <paramref name="path"/> (UTF-8) atomically: a temporary file in the same folder, then a rename over the target.</summary>
    public void WriteTo(string path) => AtomicFile.WriteAllText(path, Render());

    /// <summary>As <see cref="WriteTo"/>, asynchronously.</summary>
    public Task WriteToAsync(string path, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, Render(), cancellationToken);

    private HtmlReport Figure(string svg)
    {
        _body.Append("<figure class=\"chart\">").Append(svg).Append("</figure>\n");
        return this;
    }
}
