using System.Xml.Linq;

namespace FedAgg.Reporting.Tests;

public sealed class HtmlReportTests
{
    private const string Hostile = "<img src=x onerror=alert(1)> & \"q\" 'a' </td>";

    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void Render_FullReport_IsWellFormedXhtmlWithTextIntact()
    {
        var report = new HtmlReport("Demo " + Hostile)
            .Heading("Accuracy " + Hostile)
            .Paragraph("Para " + Hostile)
            .KeyValues([new("rule " + Hostile, "krum " + Hostile), new("rounds", "10")])
            .Table(["participant", "credit"], [["p1 " + Hostile, "0.25"], ["p2", "1,234.5"], ["p3", ""]])
            .Chart(new LineChart("acc " + Hostile, "round", "accuracy", [new ChartSeries("krum " + Hostile, [1, 2], [0.5, 0.6])]))
            .Chart(new BarChart("credits", "credit", ["p1", "p2"], [new ChartSeries("c", [], [1, 2])]))
            .Heading("Sub", 3)
            .RawHtml("<p class=\"raw\"><b>trusted</b></p>");
        var html = report.Render();
        Assert.StartsWith("<!DOCTYPE html>\n", html, StringComparison.Ordinal);
        var document = XDocument.Parse(html["<!DOCTYPE html>".Length..]);
        var root = document.Root!;
        Assert.Equal("html", root.Name.LocalName);
        Assert.Equal("Demo " + Hostile, root.Element("head")!.Element("title")!.Value);
        var main = root.Element("body")!.Element("main")!;
        Assert.Equal("Demo " + Hostile, main.Element("h1")!.Value);
        Assert.Equal("Accuracy " + Hostile, main.Element("h2")!.Value);
        Assert.Equal("Sub", main.Element("h3")!.Value);
        Assert.Equal("Para " + Hostile, main.Element("p")!.Value);
        var kv = main.Element("dl")!;
        Assert.Equal(["rule " + Hostile, "rounds"], kv.Elements("dt").Select(e => e.Value));
        Assert.Equal(["krum " + Hostile, "10"], kv.Elements("dd").Select(e => e.Value));
        var table = main.Element("table")!;
        Assert.Equal(["participant", "credit"], table.Descendants("th").Select(e => e.Value));
        var cells = table.Element("tbody")!.Elements("tr").Select(tr => tr.Elements("td").Select(td => td.Value).ToArray()).ToArray();
        Assert.Equal(["p1 " + Hostile, "0.25"], cells[0]);
        Assert.Equal(["p3", ""], cells[2]);
        // The numeric column is right-aligned, the text column is not.
        Assert.Equal("num", (string?)table.Descendants("th").ElementAt(1).Attribute("class"));
        Assert.Null(table.Descendants("th").First().Attribute("class"));
        Assert.Equal(2, main.Elements("figure").Count());
        Assert.Equal(2, main.Descendants(Svg + "svg").Count(e => e.Parent?.Name.LocalName == "figure"));
        Assert.Equal("trusted", main.Descendants("p").Single(p => (string?)p.Attribute("class") == "raw").Value);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_AnyReport_SelfContainedWithoutScriptsOrExternalUrls()
    {
        var html = new HtmlReport("t")
            .Chart(new LineChart("a", "x", "y", [new ChartSeries("s", [1, 2], [1, 2])]))
            .Chart(new BarChart("b", "y", ["c"], [new ChartSeries("s", [], [1])]))
            .Render();
        Assert.All(SvgParsing.Urls(html), url => Assert.Equal("http://www.w3.org/2000/svg", url));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<style>", html, StringComparison.Ordinal);
        Assert.Contains("<meta charset=\"utf-8\"/>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void Heading_LevelOutsideOneToSix_Throws(int level) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HtmlReport("t").Heading("h", level));

    [Fact]
    public void Table_RowLongerThanHeaders_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new HtmlReport("t").Table(["a"], [["1"], ["1", "2"]]));
        Assert.Contains("Row 1 has 2 cells for 1 columns", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Table_ShortRow_PaddedWithEmptyCells()
    {
        var html = new HtmlReport("t").Table(["a", "b", "c"], [["1"]]).Render();
        var row = XDocument.Parse(html["<!DOCTYPE html>".Length..]).Descendants("tbody").Single().Element("tr")!;
        Assert.Equal(["1", "", ""], row.Elements("td").Select(td => td.Value));
    }

    [Fact]
    public void WriteTo_Path_WritesRenderAtomicallyAndLeavesNoTemporaryFile()
    {
        var folder = Path.Combine(Path.GetTempPath(), "fedagg-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(folder, "nested", "index.html");
            var first = new HtmlReport("first");
            first.WriteTo(path);
            Assert.Equal(first.Render(), File.ReadAllText(path));

            var second = new HtmlReport("second").Paragraph("ü → ✓");
            second.WriteTo(path);
            Assert.Equal(second.Render(), File.ReadAllText(path));
            var bytes = File.ReadAllBytes(path);
            Assert.False(bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF, "no byte-order mark");
            Assert.Equal(["index.html"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task WriteToAsync_Path_WritesRender()
    {
        var folder = Path.Combine(Path.GetTempPath(), "fedagg-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(folder, "report.html");
            var report = new HtmlReport("async");
            await report.WriteToAsync(path, CancellationToken.None);
            Assert.Equal(report.Render(), await File.ReadAllTextAsync(path, CancellationToken.None));
            Assert.Single(Directory.GetFiles(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task WriteToAsync_Cancelled_ThrowsAndLeavesNoFile()
    {
        var folder = Path.Combine(Path.GetTempPath(), "fedagg-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new HtmlReport("x").WriteToAsync(Path.Combine(folder, "r.html"), cancelled.Token));
            Assert.Empty(Directory.GetFiles(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
