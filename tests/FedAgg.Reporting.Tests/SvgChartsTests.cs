using System.Xml.Linq;
using static FedAgg.Reporting.Tests.SvgParsing;

namespace FedAgg.Reporting.Tests;

public sealed class SvgChartsTests
{
    private const string Hostile = "<script>alert('x')</script> & \"quoted\" 'single' >";

    [Fact]
    public void Render_LineChartHostileText_ParsesAsXmlWithTextIntact()
    {
        var chart = new LineChart(Hostile, "x " + Hostile, "y " + Hostile, [Make(Hostile, [1, 2, 3], [0.1, 0.5, 0.3])]);
        var svg = SvgCharts.Render(chart);
        var root = Parse(svg);
        Assert.Equal(Hostile, root.Element(Svg + "title")!.Value);
        var texts = root.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains(Hostile, texts);
        Assert.Contains("x " + Hostile, texts);
        Assert.Contains("y " + Hostile, texts);
        Assert.Equal(Hostile, (string?)Series(root).Single().Attribute("data-name"));
        Assert.DoesNotContain("<script", svg, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(root.Descendants(), e => e.Name.LocalName == "script");
    }

    [Fact]
    public void Render_BarChartHostileText_ParsesAsXmlWithTextIntact()
    {
        var chart = new BarChart(Hostile, Hostile, [Hostile, "b"], [Make(Hostile, [], [1, 2])]);
        var svg = SvgCharts.Render(chart);
        var root = Parse(svg);
        Assert.Contains(Hostile, root.Descendants(Svg + "text").Select(t => t.Value));
        Assert.DoesNotContain("<script", svg, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Render_CharactersXmlForbids_AreDroppedOrReplaced()
    {
        var name = "a\u0001b\u0008c\uD800d\uFFFEe";
        var root = Parse(SvgCharts.Render(new LineChart(name, "x", "y", [Make(name, [1], [1])])));
        Assert.Equal("abc\uFFFDde", root.Element(Svg + "title")!.Value);
    }

    [Fact]
    public void Render_AnyChart_HasNoUrlButTheSvgNamespace()
    {
        var line = SvgCharts.Render(new LineChart("t", "x", "y", [Make("s", [1, 2], [3, 4])]));
        var bar = SvgCharts.Render(new BarChart("t", "y", ["a"], [Make("s", [], [1])]));
        Assert.All(SvgParsing.Urls(line + bar), url => Assert.Equal("http://www.w3.org/2000/svg", url));
    }

    [Fact]
    public void Render_LinePoints_MapToPlotAreaPixels()
    {
        double[] xs = [0, 2.5, 7, 10];
        double[] ys = [0, 0.5, 0.25, 1];
        var chart = new LineChart("Accuracy", "round", "accuracy", [Make("krum", xs, ys)]) { YMin = 0, YMax = 1 };
        var root = Parse(SvgCharts.Render(chart));
        var area = ByClass(root, "rect", "plot-area");
        var data = ByClass(root, "svg", "plot-data");
        double left = Attr(area, "x"), top = Attr(area, "y"), width = Attr(area, "width"), height = Attr(area, "height");
        double originX = Attr(data, "x"), originY = Attr(data, "y");
        Assert.Equal(left - SvgCharts.PlotPadding, originX, 0.01);
        Assert.Equal(top - SvgCharts.PlotPadding, originY, 0.01);

        // Axes: X 0…10 (nice, data already on multiples of 2), Y exactly YMin…YMax.
        var run = Assert.Single(Runs(Series(root).Single().Element(Svg + "path")!.Attribute("d")!.Value));
        Assert.Equal(xs.Length, run.Count);
        for (var i = 0; i < xs.Length; i++)
        {
            Assert.Equal(left + (xs[i] / 10 * width), originX + run[i].X, 0.02);
            Assert.Equal(top + height - (ys[i] * height), originY + run[i].Y, 0.02);
        }

        var circles = Series(root).Single().Elements(Svg + "circle").ToList();
        Assert.Equal(xs.Length, circles.Count);
        Assert.Equal(left + (0.25 * width), originX + Attr(circles[1], "cx"), 0.02);
        Assert.Equal("krum: 2.5, 0.5", circles[1].Element(Svg + "title")!.Value);
    }

    [Fact]
    public void Render_YAxisTicks_AreNiceAndPlacedLinearly()
    {
        var root = Parse(SvgCharts.Render(new LineChart("t", "x", "y", [Make("s", [1, 2, 3], [3, 50, 97])])));
        var area = ByClass(root, "rect", "plot-area");
        var labels = root.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "y-axis").Elements(Svg + "text").ToList();
        Assert.Equal(["0", "20", "40", "60", "80", "100"], labels.Select(l => l.Value));
        var bottom = Attr(area, "y") + Attr(area, "height");
        // label baseline = grid line + 4
        Assert.Equal(bottom + 4, Attr(labels[0], "y"), 0.02);
        Assert.Equal(Attr(area, "y") + 4, Attr(labels[^1], "y"), 0.02);
        var xLabels = root.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "x-axis").Elements(Svg + "text").Select(t => t.Value);
        Assert.Equal(["1", "2", "3"], xLabels); // integral X never gets half steps
    }

    [Fact]
    public void Render_NaNInSeries_BreaksTheLine()
    {
        var root = Parse(SvgCharts.Render(new LineChart("t", "x", "y", [Make("s", [1, 2, 3, 4, 5], [1, 2, double.NaN, 4, 5])])));
        var runs = Runs(Series(root).Single().Element(Svg + "path")!.Attribute("d")!.Value);
        Assert.Equal([2, 2], runs.Select(r => r.Count));
    }

    [Fact]
    public void Render_IsolatedPointAmongMany_GetsTheOnlyMarker()
    {
        var y = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();
        y[49] = double.NaN;
        y[51] = double.PositiveInfinity;
        var x = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();
        var series = Series(Parse(SvgCharts.Render(new LineChart("t", "x", "y", [Make("s", x, y)])))).Single();
        var circle = Assert.Single(series.Elements(Svg + "circle"));
        Assert.Equal("s: 50, 50", circle.Element(Svg + "title")!.Value);
        Assert.Equal([49, 1, 48], Runs(series.Element(Svg + "path")!.Attribute("d")!.Value).Select(r => r.Count));
    }

    [Fact]
    public void Render_EmptySeries_InLegendWithoutPath()
    {
        var root = Parse(SvgCharts.Render(new LineChart("t", "x", "y", [Make("empty", [], []), Make("full", [1, 2], [1, 2])])));
        var legend = root.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "legend");
        Assert.Equal(["empty", "full"], legend.Elements(Svg + "text").Select(t => t.Value));
        var series = Series(root).ToList();
        Assert.Empty(series[0].Elements(Svg + "path"));
        Assert.Single(series[1].Elements(Svg + "path"));
        Assert.DoesNotContain(root.Descendants(Svg + "text"), t => t.Value == "No data");
    }

    [Fact]
    public void Render_NoPointsAtAll_SaysNoData()
    {
        var line = Parse(SvgCharts.Render(new LineChart("t", "x", "y", [Make("a", [1], [double.NaN])])));
        Assert.Contains(line.Descendants(Svg + "text"), t => t.Value == "No data");
        var noSeries = Parse(SvgCharts.Render(new LineChart("t", "x", "y", [])));
        Assert.Contains(noSeries.Descendants(Svg + "text"), t => t.Value == "No data");
        var bars = Parse(SvgCharts.Render(new BarChart("t", "y", [], [])));
        Assert.Contains(bars.Descendants(Svg + "text"), t => t.Value == "No data");
    }

    [Fact]
    public void Render_SinglePointAndEqualValues_CentreTheValue()
    {
        var single = Parse(SvgCharts.Render(new LineChart("t", "x", "y", [Make("s", [3], [0.5])])));
        var circle = Assert.Single(Series(single).Single().Elements(Svg + "circle"));
        var area = ByClass(single, "rect", "plot-area");
        var data = ByClass(single, "svg", "plot-data");
        var cy = Attr(data, "y") + Attr(circle, "cy");
        Assert.InRange(cy, Attr(area, "y") + 1, Attr(area, "y") + Attr(area, "height") - 1);
        var cx = Attr(data, "x") + Attr(circle, "cx");
        Assert.InRange(cx, Attr(area, "x") + 1, Attr(area, "x") + Attr(area, "width") - 1);

        var flat = Parse(SvgCharts.Render(new LineChart("t", "x", "y", [Make("s", [1, 2, 3], [7, 7, 7])])));
        var labels = flat.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "y-axis").Elements(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("7.0", labels);
        Assert.True(labels.Count >= 3, string.Join(", ", labels));
    }

    [Fact]
    public void Render_ManySeries_GetDistinctColours()
    {
        var series = Enumerable.Range(0, 10).Select(i => Make($"s{i}", [], [i + 1])).ToList();
        var root = Parse(SvgCharts.Render(new BarChart("t", "y", ["a"], series)));
        var fills = Series(root).Select(g => (string?)g.Attribute("fill")).ToList();
        Assert.Equal(10, fills.Distinct().Count());

        var lines = Enumerable.Range(0, 12).Select(i => Make($"s{i}", [0, 1], [i, i + 1])).ToList();
        var paths = Series(Parse(SvgCharts.Render(new LineChart("t", "x", "y", lines)))).Select(g => g.Element(Svg + "path")!).ToList();
        var styles = paths.Select(p => $"{p.Attribute("stroke")!.Value} {(string?)p.Attribute("stroke-dasharray")}").ToList();
        Assert.Equal(12, styles.Distinct().Count());
    }

    [Fact]
    public void Render_GroupedBars_HeightsProportionalAndNaNLeftOut()
    {
        var chart = new BarChart("Credits", "credit", ["p1", "p2"], [Make("honest", [], [1, 2]), Make("byzantine", [], [3, double.NaN])]);
        var root = Parse(SvgCharts.Render(chart));
        var area = ByClass(root, "rect", "plot-area");
        var data = ByClass(root, "svg", "plot-data");
        var bars = Series(root).Select(g => g.Elements(Svg + "rect").ToList()).ToList();
        Assert.Equal([2, 1], bars.Select(b => b.Count));
        var bottom = Attr(area, "y") + Attr(area, "height");
        // Y axis 0…3 → a value v is v/3 of the plot height tall, standing on the bottom.
        var unit = Attr(area, "height") / 3;
        Assert.Equal(1 * unit, Attr(bars[0][0], "height"), 0.02);
        Assert.Equal(2 * unit, Attr(bars[0][1], "height"), 0.02);
        Assert.Equal(3 * unit, Attr(bars[1][0], "height"), 0.02);
        Assert.Equal(bottom, Attr(data, "y") + Attr(bars[1][0], "y") + Attr(bars[1][0], "height"), 0.02);
        Assert.Equal("p1 · byzantine: 3", bars[1][0].Element(Svg + "title")!.Value);
        // Side by side inside the first category's band.
        Assert.True(Attr(bars[1][0], "x") > Attr(bars[0][0], "x"));
        Assert.True(Attr(bars[0][1], "x") > Attr(bars[1][0], "x"));
    }

    [Fact]
    public void Render_StackedBars_StartWhereThePreviousEnds()
    {
        var chart = new BarChart("Share", "credit", ["r1"], [Make("honest", [], [3]), Make("byzantine", [], [1])]) { Stacked = true };
        var root = Parse(SvgCharts.Render(chart));
        var area = ByClass(root, "rect", "plot-area");
        var bars = Series(root).Select(g => g.Elements(Svg + "rect").Single()).ToList();
        var unit = Attr(area, "height") / 4; // Y axis 0…4
        Assert.Equal(3 * unit, Attr(bars[0], "height"), 0.02);
        Assert.Equal(1 * unit, Attr(bars[1], "height"), 0.02);
        Assert.Equal(Attr(bars[0], "y"), Attr(bars[1], "y") + Attr(bars[1], "height"), 0.02);
        Assert.Equal(Attr(bars[0], "x"), Attr(bars[1], "x"), 0.001);
    }

    [Fact]
    public void Render_NegativeBars_HangFromAZeroLine()
    {
        var root = Parse(SvgCharts.Render(new BarChart("t", "y", ["a", "b"], [Make("s", [], [-2, 4])])));
        var zero = ByClass(root, "line", "zero");
        var data = ByClass(root, "svg", "plot-data");
        var bars = Series(root).Single().Elements(Svg + "rect").ToList();
        Assert.Equal(Attr(zero, "y1"), Attr(data, "y") + Attr(bars[0], "y"), 0.02);
        Assert.Equal(Attr(zero, "y1"), Attr(data, "y") + Attr(bars[1], "y") + Attr(bars[1], "height"), 0.02);
        Assert.Equal(2 * Attr(bars[0], "height"), Attr(bars[1], "height"), 0.02);
    }

    [Fact]
    public void Render_LongCategoryNames_RotatedTruncatedWithFullTitle()
    {
        var names = Enumerable.Range(0, 12).Select(i => $"12D3KooWParticipantWithAVeryLongPeerId{i}").ToList();
        var root = Parse(SvgCharts.Render(new BarChart("t", "y", names, [Make("s", [], [.. names.Select((_, i) => (double)i)])])));
        var labels = root.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "x-axis").Elements(Svg + "text").ToList();
        Assert.NotEmpty(labels);
        Assert.All(labels, l => Assert.Contains("rotate(-35", (string?)l.Attribute("transform"), StringComparison.Ordinal));
        Assert.All(labels, l => Assert.EndsWith("…", l.Nodes().OfType<XText>().Single().Value, StringComparison.Ordinal));
        Assert.Equal(names[0], labels[0].Element(Svg + "title")!.Value);
    }

    [Fact]
    public void Render_InvalidInput_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => SvgCharts.Render(new LineChart("t", "x", "y", [Make("s", [1, 2], [1])])));
        Assert.Throws<ArgumentException>(() => SvgCharts.Render(new BarChart("t", "y", ["a", "b"], [Make("s", [], [1])])));
        Assert.Throws<ArgumentException>(() => SvgCharts.Render(new LineChart("t", "x", "y", []) { YMin = 1, YMax = 1 }));
        Assert.Throws<ArgumentException>(() => SvgCharts.Render(new LineChart("t", "x", "y", []) { Width = 10 }));
    }

    [Fact]
    public void Render_YMinAboveAllData_KeepsTheFixedEnd()
    {
        var root = Parse(SvgCharts.Render(new LineChart("t", "x", "y", [Make("s", [1, 2], [-3, -2])]) { YMin = 0 }));
        var labels = root.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "y-axis").Elements(Svg + "text").Select(t => t.Value).ToList();
        Assert.Equal("0", labels[0]);
    }

    [Fact]
    public void Render_SameChartTwice_IdenticalOutput()
    {
        var chart = new LineChart("t", "x", "y", [Make("s", [1, 2, 3], [0.2, 0.4, 0.1])]);
        Assert.Equal(SvgCharts.Render(chart), SvgCharts.Render(chart));
    }

    private static ChartSeries Make(string name, double[] x, double[] y) => new(name, x, y);
}
