using System.Globalization;
using System.Text;

namespace FedAgg.Reporting;

/// <summary>
/// Renders charts as standalone inline SVG (no scripts, no external references, no ids, so many charts can share
/// one page): system font, light grid, legend, 1/2/5 ticks, tooltips through <c>&lt;title&gt;</c>.
/// </summary>
/// <remarks>
/// Layout, for readers and tests: the plot area is the <c>rect</c> with class <c>plot-area</c>; the data sit in a
/// nested <c>svg</c> with class <c>plot-data</c> that starts <see cref="PlotPadding"/> pixels before the plot area on
/// both axes (so markers on the edge are whole and anything beyond is clipped), and a value maps linearly from the
/// axis' ends to the plot area's edges (Y upwards).
/// </remarks>
public static class SvgCharts
{
    /// <summary>Pixels the data layer extends beyond the plot area on each side.</summary>
    public const int PlotPadding = 6;

    /// <summary>Series colours, in order (Tableau 10); lines past the tenth series are dashed.</summary>
    public static IReadOnlyList<string> Palette { get; } =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    private const string FontFamily = "system-ui, -apple-system, &#39;Segoe UI&#39;, Roboto, &#39;Helvetica Neue&#39;, Arial, sans-serif";
    private const string GridColour = "#e5e7eb";
    private const string AxisColour = "#9ca3af";
    private const string TextColour = "#374151";
    private const string MutedColour = "#6b7280";
    private const int MarkerLimit = 60;
    private const int MaxCategoryChars = 28;

    private static readonly string[] Dashes = [string.Empty, "7 4", "2 3", "9 3 2 3"];

    /// <summary>The line chart as an <c>&lt;svg&gt;</c> element.</summary>
    /// <exception cref="ArgumentException">A series' X and Y differ in length, the size is too small, or YMin ≥ YMax.</exception>
    public static string Render(LineChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        CheckSize(chart.Width, chart.Height);
        var series = chart.Series ?? [];
        for (var s = 0; s < series.Count; s++)
        {
            var one = series[s] ?? throw new ArgumentException($"Series {s} is null.", nameof(chart));
            if ((one.X?.Count ?? 0) != (one.Y?.Count ?? 0))
            {
                throw new ArgumentException($"Series {s} ('{one.Name}') has {one.X?.Count ?? 0} X values and {one.Y?.Count ?? 0} Y values.", nameof(chart));
            }
        }

        if (chart.YMin is { } yMinSet && chart.YMax is { } yMaxSet && !(yMinSet < yMaxSet))
        {
            throw new ArgumentException($"YMin ({yMinSet}) must be below YMax ({yMaxSet}).", nameof(chart));
        }

        var (xMin, xMax, yMin, yMax, points, integralX) = Extent(series);
        var svg = new SvgBuilder(chart.Width, chart.Height, chart.Title);
        var top = svg.Title(chart.Title);
        top = svg.Legend(top, [.. series.Select(s => s.Name)], lines: true);

        var plotBottom = chart.Height - 46.0;
        var estimatedHeight = Math.Max(40, plotBottom - top - 8);
        var lo = chart.YMin ?? (points > 0 ? yMin : 0);
        var hi = chart.YMax ?? (points > 0 ? yMax : 1);
        if (hi < lo)
        {
            // Only one end was fixed and the data lie beyond it: an empty range at the fixed end.
            (lo, hi) = chart.YMin is not null ? (lo, lo) : (hi, hi);
        }

        var yScale = NiceTicks.Compute(lo, hi, Math.Max(2, (int)(estimatedHeight / 45)), chart.YMin is not null, chart.YMax is not null);
        var plotLeft = 30.0 + yScale.Ticks.Select(t => SvgBuilder.TextWidth(yScale.Format(t), 11)).DefaultIfEmpty(10).Max();
        var plotRight = chart.Width - 20.0;
        var xScale = points > 0
            ? NiceTicks.Compute(xMin, xMax, Math.Max(2, (int)((plotRight - plotLeft) / 90)), minimumStep: integralX ? 1 : 0)
            : NiceTicks.Compute(0, 1, 5);
        var plot = new PlotArea(plotLeft, top + 8, plotRight, plotBottom);

        svg.Frame(plot, yScale, chart.YLabel);
        svg.XTicks(plot, xScale, chart.XLabel);
        svg.BeginData(plot);
        for (var s = 0; s < series.Count; s++)
        {
            svg.Line(plot, xScale, yScale, series[s], Palette[s % Palette.Count], Dashes[(s / Palette.Count) % Dashes.Length]);
        }

        svg.EndData();
        if (points == 0)
        {
            svg.NoData(plot);
        }

        return svg.Finish();
    }

    /// <summary>The bar chart as an <c>&lt;svg&gt;</c> element.</summary>
    /// <exception cref="ArgumentException">A series has a Y count different from the category count, or the size is too small.</exception>
    public static string Render(BarChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        CheckSize(chart.Width, chart.Height);
        var categories = chart.Categories ?? [];
        var series = chart.Series ?? [];
        for (var s = 0; s < series.Count; s++)
        {
            var one = series[s] ?? throw new ArgumentException($"Series {s} is null.", nameof(chart));
            if ((one.Y?.Count ?? 0) != categories.Count)
            {
                throw new ArgumentException($"Series {s} ('{one.Name}') has {one.Y?.Count ?? 0} values for {categories.Count} categories.", nameof(chart));
            }
        }

        double lo = 0, hi = 0;
        var any = false;
        for (var c = 0; c < categories.Count; c++)
        {
            double positive = 0, negative = 0;
            foreach (var one in series)
            {
                var v = one.Y[c];
                if (!double.IsFinite(v))
                {
                    continue;
                }

                any = true;
                if (chart.Stacked)
                {
                    if (v >= 0)
                    {
                        positive += v;
                    }
                    else
                    {
                        negative += v;
                    }
                }
                else
                {
                    lo = Math.Min(lo, v);
                    hi = Math.Max(hi, v);
                }
            }

            lo = Math.Min(lo, negative);
            hi = Math.Max(hi, positive);
        }

        if (lo == 0 && hi == 0)
        {
            hi = 1;
        }

        var svg = new SvgBuilder(chart.Width, chart.Height, chart.Title);
        var top = svg.Title(chart.Title);
        var named = series.Count > 1 || (series.Count == 1 && !string.IsNullOrEmpty(series[0].Name));
        top = named ? svg.Legend(top, [.. series.Select(s => s.Name)], lines: false) : top;

        var labels = categories.Select(c => Truncate(c ?? string.Empty)).ToArray();
        var widest = labels.Select(l => SvgBuilder.TextWidth(l, 11)).DefaultIfEmpty(0).Max();
        var estimatedLeft = 30.0 + 40;
        var band = categories.Count > 0 ? (chart.Width - 20.0 - estimatedLeft) / categories.Count : 0;
        var rotate = widest > band - 6;
        var bottomMargin = rotate ? Math.Min(chart.Height * 0.35, 30 + (widest * 0.6)) : 40.0;
        var plotBottom = chart.Height - bottomMargin;
        var estimatedHeight = Math.Max(40, plotBottom - top - 8);
        var yScale = NiceTicks.Compute(lo, hi, Math.Max(2, (int)(estimatedHeight / 45)));
        var plotLeft = 30.0 + yScale.Ticks.Select(t => SvgBuilder.TextWidth(yScale.Format(t), 11)).DefaultIfEmpty(10).Max();
        var plot = new PlotArea(plotLeft, top + 8, chart.Width - 20.0, plotBottom);
        band = categories.Count > 0 ? plot.Width / categories.Count : 0;

        svg.Frame(plot, yScale, chart.YLabel);
        svg.CategoryLabels(plot, categories, labels, band, rotate);
        svg.BeginData(plot);
        svg.Bars(plot, yScale, categories, series, band, chart.Stacked);
        svg.EndData();
        svg.ZeroLine(plot, yScale);
        if (!any)
        {
            svg.NoData(plot);
        }

        return svg.Finish();
    }

    private static string Truncate(string label) =>
        label.Length <= MaxCategoryChars ? label : string.Concat(label.AsSpan(0, MaxCategoryChars - 1), "…");

    private static void CheckSize(int width, int height)
    {
        if (width < 240 || height < 160)
        {
            throw new ArgumentException($"A chart must be at least 240×160 pixels; it is {width}×{height}.");
        }
    }

    private static (double XMin, double XMax, double YMin, double YMax, int Points, bool IntegralX) Extent(IReadOnlyList<ChartSeries> series)
    {
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity, yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
        var points = 0;
        var integral = true;
        foreach (var one in series)
        {
            for (var i = 0; i < one.Y.Count; i++)
            {
                var (x, y) = (one.X[i], one.Y[i]);
                if (!double.IsFinite(x) || !double.IsFinite(y))
                {
                    continue;
                }

                points++;
                integral &= x == Math.Floor(x);
                (xMin, xMax) = (Math.Min(xMin, x), Math.Max(xMax, x));
                (yMin, yMax) = (Math.Min(yMin, y), Math.Max(yMax, y));
            }
        }

        return (xMin, xMax, yMin, yMax, points, integral);
    }

    private readonly record struct PlotArea(double Left, double Top, double Right, double Bottom)
    {
        public double Width => Right - Left;

        public double Height => Bottom - Top;
    }

    /// <summary>Writes the SVG text; every string from the caller goes through <see cref="HtmlText"/>.</summary>
    private sealed class SvgBuilder
    {
        private readonly StringBuilder _text = new();
        private readonly int _width;

        public SvgBuilder(int width, int height, string title)
        {
            _width = width;
            _text.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(width).Append("\" height=\"").Append(height)
                .Append("\" viewBox=\"0 0 ").Append(width).Append(' ').Append(height)
                .Append("\" role=\"img\" font-family=\"").Append(FontFamily).Append("\" font-size=\"12\" fill=\"").Append(TextColour).Append("\">");
            Element("title", title);
            _text.Append("<rect class=\"background\" x=\"0\" y=\"0\" width=\"").Append(width).Append("\" height=\"").Append(height).Append("\" fill=\"#ffffff\"/>");
        }

        /// <summary>Rough width of <paramref name="text"/> in a proportional sans-serif font.</summary>
        public static double TextWidth(string? text, double fontSize) => (text?.Length ?? 0) * fontSize * 0.6;

        public double Title(string title)
        {
            _text.Append("<text class=\"chart-title\" x=\"14\" y=\"24\" font-size=\"15\" font-weight=\"600\" fill=\"#111827\">");
            HtmlText.Append(_text, title);
            _text.Append("</text>");
            return 32;
        }

        public double Legend(double top, IReadOnlyList<string> names, bool lines)
        {
            if (names.Count == 0)
            {
                return top;
            }

            double x = 14, y = top + 14;
            _text.Append("<g class=\"legend\" font-size=\"12\">");
            for (var s = 0; s < names.Count; s++)
            {
                var entry = 22 + TextWidth(names[s], 12) + 16;
                if (x > 14 && x + entry > _width - 10)
                {
                    x = 14;
                    y += 18;
                }

                var colour = Palette[s % Palette.Count];
                if (lines)
                {
                    _text.Append("<line x1=\"").Append(F(x)).Append("\" y1=\"").Append(F(y - 4)).Append("\" x2=\"").Append(F(x + 16))
                        .Append("\" y2=\"").Append(F(y - 4)).Append("\" stroke=\"").Append(colour).Append("\" stroke-width=\"3\"");
                    var dash = Dashes[(s / Palette.Count) % Dashes.Length];
                    if (dash.Length > 0)
                    {
                        _text.Append(" stroke-dasharray=\"").Append(dash).Append('"');
                    }

                    _text.Append("/>");
                }
                else
                {
                    _text.Append("<rect x=\"").Append(F(x + 2)).Append("\" y=\"").Append(F(y - 10)).Append("\" width=\"12\" height=\"12\" rx=\"2\" fill=\"")
                        .Append(colour).Append("\"/>");
                }

                _text.Append("<text x=\"").Append(F(x + 22)).Append("\" y=\"").Append(F(y)).Append("\">");
                HtmlText.Append(_text, names[s]);
                _text.Append("</text>");
                x += entry;
            }

            _text.Append("</g>");
            return y + 6;
        }

        /// <summary>Plot background, horizontal grid with Y tick labels, the Y axis title, and the axis lines.</summary>
        public void Frame(PlotArea plot, AxisScale y, string yLabel)
        {
            _text.Append("<rect class=\"plot-area\" x=\"").Append(F(plot.Left)).Append("\" y=\"").Append(F(plot.Top)).Append("\" width=\"")
                .Append(F(plot.Width)).Append("\" height=\"").Append(F(plot.Height)).Append("\" fill=\"#ffffff\"/>");
            _text.Append("<g class=\"y-axis\" font-size=\"11\" fill=\"").Append(MutedColour).Append("\" text-anchor=\"end\">");
            foreach (var tick in y.Ticks)
            {
                var py = y.ToPixel(tick, plot.Bottom, plot.Top);
                _text.Append("<line x1=\"").Append(F(plot.Left)).Append("\" y1=\"").Append(F(py)).Append("\" x2=\"").Append(F(plot.Right))
                    .Append("\" y2=\"").Append(F(py)).Append("\" stroke=\"").Append(GridColour).Append("\" shape-rendering=\"crispEdges\"/>");
                _text.Append("<text x=\"").Append(F(plot.Left - 6)).Append("\" y=\"").Append(F(py + 4)).Append("\">")
                    .Append(HtmlText.Escape(y.Format(tick))).Append("</text>");
            }

            _text.Append("</g>");
            var middle = (plot.Top + plot.Bottom) / 2;
            _text.Append("<text class=\"y-label\" transform=\"rotate(-90)\" x=\"").Append(F(-middle)).Append("\" y=\"14\" text-anchor=\"middle\">");
            HtmlText.Append(_text, yLabel);
            _text.Append("</text>");
            _text.Append("<path d=\"M").Append(F(plot.Left)).Append(' ').Append(F(plot.Top)).Append('V').Append(F(plot.Bottom)).Append('H').Append(F(plot.Right))
                .Append("\" fill=\"none\" stroke=\"").Append(AxisColour).Append("\" shape-rendering=\"crispEdges\"/>");
        }

        public void XTicks(PlotArea plot, AxisScale x, string xLabel)
        {
            _text.Append("<g class=\"x-axis\" font-size=\"11\" fill=\"").Append(MutedColour).Append("\" text-anchor=\"middle\">");
            foreach (var tick in x.Ticks)
            {
                var px = x.ToPixel(tick, plot.Left, plot.Right);
                _text.Append("<line x1=\"").Append(F(px)).Append("\" y1=\"").Append(F(plot.Top)).Append("\" x2=\"").Append(F(px))
                    .Append("\" y2=\"").Append(F(plot.Bottom + 4)).Append("\" stroke=\"").Append(GridColour).Append("\" shape-rendering=\"crispEdges\"/>");
                _text.Append("<text x=\"").Append(F(px)).Append("\" y=\"").Append(F(plot.Bottom + 17)).Append("\">")
                    .Append(HtmlText.Escape(x.Format(tick))).Append("</text>");
            }

            _text.Append("</g>");
            _text.Append("<text class=\"x-label\" x=\"").Append(F((plot.Left + plot.Right) / 2)).Append("\" y=\"").Append(F(plot.Bottom + 36))
                .Append("\" text-anchor=\"middle\">");
            HtmlText.Append(_text, xLabel);
            _text.Append("</text>");
        }

        public void CategoryLabels(PlotArea plot, IReadOnlyList<string> categories, string[] labels, double band, bool rotate)
        {
            var every = rotate ? Math.Max(1, (int)Math.Ceiling(categories.Count * 14 / Math.Max(1, plot.Width))) : 1;
            _text.Append("<g class=\"x-axis\" font-size=\"11\" fill=\"").Append(MutedColour).Append("\">");
            for (var c = 0; c < categories.Count; c += every)
            {
                var cx = plot.Left + ((c + 0.5) * band);
                var y = plot.Bottom + 15;
                _text.Append("<text x=\"").Append(F(cx)).Append("\" y=\"").Append(F(y)).Append('"');
                _text.Append(rotate ? " text-anchor=\"end\" transform=\"rotate(-35 " + F(cx) + " " + F(y - 4) + ")\"" : " text-anchor=\"middle\"");
                _text.Append('>');
                if (!string.Equals(labels[c], categories[c], StringComparison.Ordinal))
                {
                    Element("title", categories[c]);
                }

                HtmlText.Append(_text, labels[c]);
                _text.Append("</text>");
            }

            _text.Append("</g>");
        }

        public void BeginData(PlotArea plot) =>
            _text.Append("<svg class=\"plot-data\" x=\"").Append(F(plot.Left - PlotPadding)).Append("\" y=\"").Append(F(plot.Top - PlotPadding))
                .Append("\" width=\"").Append(F(plot.Width + (2 * PlotPadding))).Append("\" height=\"").Append(F(plot.Height + (2 * PlotPadding)))
                .Append("\" overflow=\"hidden\">");

        public void EndData() => _text.Append("</svg>");

        /// <summary>One series: a path broken at every non-finite point, plus markers when there are few points or a point stands alone.</summary>
        public void Line(PlotArea plot, AxisScale x, AxisScale y, ChartSeries series, string colour, string dash)
        {
            var count = series.Y.Count;
            var originX = plot.Left - PlotPadding;
            var originY = plot.Top - PlotPadding;
            var finite = new bool[count];
            for (var i = 0; i < count; i++)
            {
                finite[i] = double.IsFinite(series.X[i]) && double.IsFinite(series.Y[i]);
            }

            _text.Append("<g class=\"series\" data-name=\"").Append(HtmlText.Escape(series.Name)).Append("\">");
            var path = new StringBuilder();
            for (var i = 0; i < count; i++)
            {
                if (!finite[i])
                {
                    continue;
                }

                var startsRun = i == 0 || !finite[i - 1];
                path.Append(startsRun ? (path.Length == 0 ? "M" : " M") : " L")
                    .Append(F(x.ToPixel(series.X[i], plot.Left, plot.Right) - originX)).Append(' ')
                    .Append(F(y.ToPixel(series.Y[i], plot.Bottom, plot.Top) - originY));
            }

            if (path.Length > 0)
            {
                _text.Append("<path d=\"").Append(path).Append("\" fill=\"none\" stroke=\"").Append(colour)
                    .Append("\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"");
                if (dash.Length > 0)
                {
                    _text.Append(" stroke-dasharray=\"").Append(dash).Append('"');
                }

                _text.Append("/>");
            }

            var finiteCount = finite.Count(f => f);
            for (var i = 0; i < count; i++)
            {
                var alone = finite[i] && (i == 0 || !finite[i - 1]) && (i == count - 1 || !finite[i + 1]);
                if (!finite[i] || (finiteCount > MarkerLimit && !alone))
                {
                    continue;
                }

                _text.Append("<circle cx=\"").Append(F(x.ToPixel(series.X[i], plot.Left, plot.Right) - originX)).Append("\" cy=\"")
                    .Append(F(y.ToPixel(series.Y[i], plot.Bottom, plot.Top) - originY)).Append("\" r=\"3\" fill=\"").Append(colour).Append("\">");
                Element("title", $"{series.Name}: {Value(series.X[i])}, {Value(series.Y[i])}");
                _text.Append("</circle>");
            }

            _text.Append("</g>");
        }

        public void Bars(PlotArea plot, AxisScale y, IReadOnlyList<string> categories, IReadOnlyList<ChartSeries> series, double band, bool stacked)
        {
            var originX = plot.Left - PlotPadding;
            var originY = plot.Top - PlotPadding;
            var groupWidth = band * (stacked ? 0.6 : 0.8);
            var barWidth = stacked || series.Count == 0 ? groupWidth : groupWidth / series.Count;
            var gap = !stacked && barWidth > 6 ? 1.0 : 0.0;
            var positive = new double[categories.Count];
            var negative = new double[categories.Count];
            for (var s = 0; s < series.Count; s++)
            {
                var colour = Palette[s % Palette.Count];
                _text.Append("<g class=\"series\" data-name=\"").Append(HtmlText.Escape(series[s].Name)).Append("\" fill=\"").Append(colour).Append("\">");
                for (var c = 0; c < categories.Count; c++)
                {
                    var v = series[s].Y[c];
                    if (!double.IsFinite(v))
                    {
                        continue;
                    }

                    double from, to;
                    if (stacked)
                    {
                        ref var level = ref v >= 0 ? ref positive[c] : ref negative[c];
                        (from, to) = (level, level + v);
                        level = to;
                    }
                    else
                    {
                        (from, to) = (0, v);
                    }

                    var left = plot.Left + (c * band) + ((band - groupWidth) / 2) + (stacked ? 0 : s * barWidth);
                    var y0 = y.ToPixel(from, plot.Bottom, plot.Top);
                    var y1 = y.ToPixel(to, plot.Bottom, plot.Top);
                    _text.Append("<rect x=\"").Append(F(left + (gap / 2) - originX)).Append("\" y=\"").Append(F(Math.Min(y0, y1) - originY))
                        .Append("\" width=\"").Append(F(Math.Max(0, barWidth - gap))).Append("\" height=\"").Append(F(Math.Abs(y1 - y0))).Append("\">");
                    Element("title", $"{categories[c]} · {series[s].Name}: {Value(v)}");
                    _text.Append("</rect>");
                }

                _text.Append("</g>");
            }
        }

        public void ZeroLine(PlotArea plot, AxisScale y)
        {
            if (y.Min < 0 && y.Max > 0)
            {
                var py = F(y.ToPixel(0, plot.Bottom, plot.Top));
                _text.Append("<line class=\"zero\" x1=\"").Append(F(plot.Left)).Append("\" y1=\"").Append(py).Append("\" x2=\"").Append(F(plot.Right))
                    .Append("\" y2=\"").Append(py).Append("\" stroke=\"").Append(AxisColour).Append("\" shape-rendering=\"crispEdges\"/>");
            }
        }

        public void NoData(PlotArea plot) =>
            _text.Append("<text class=\"no-data\" x=\"").Append(F((plot.Left + plot.Right) / 2)).Append("\" y=\"").Append(F((plot.Top + plot.Bottom) / 2))
                .Append("\" text-anchor=\"middle\" fill=\"").Append(MutedColour).Append("\">No data</text>");

        public string Finish() => _text.Append("</svg>").ToString();

        private void Element(string name, string? content)
        {
            _text.Append('<').Append(name).Append('>');
            HtmlText.Append(_text, content);
            _text.Append("</").Append(name).Append('>');
        }

        private static string Value(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
    }

    /// <summary>A coordinate with at most two decimals, invariant culture.</summary>
    internal static string F(double value) => (Math.Round(value, 2) + 0.0).ToString("0.##", CultureInfo.InvariantCulture); // + 0.0: no "-0"
}
