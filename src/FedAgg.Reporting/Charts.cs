namespace FedAgg.Reporting;

/// <summary>
/// One named series. Line charts plot (X[i], Y[i]); bar charts read Y[i] as the value of category i and ignore X.
/// A NaN or infinite value is a gap: the line breaks there, the bar is left out.
/// </summary>
/// <param name="Name">Shown in the legend and in tooltips.</param>
/// <param name="X">X values (line charts); must have as many entries as <paramref name="Y"/>. Bar charts may pass an empty list.</param>
/// <param name="Y">Y values.</param>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>A line chart over numeric X with one line per series.</summary>
/// <param name="Title">Shown above the chart.</param>
/// <param name="XLabel">X axis title.</param>
/// <param name="YLabel">Y axis title.</param>
/// <param name="Series">The lines, coloured in order from a 10-colour palette (dashed after the tenth).</param>
public sealed record LineChart(string Title, string XLabel, string YLabel, IReadOnlyList<ChartSeries> Series)
{
    /// <summary>Lower end of the Y axis (default null: a nice value at or below the data).</summary>
    public double? YMin { get; init; }

    /// <summary>Upper end of the Y axis (default null: a nice value at or above the data).</summary>
    public double? YMax { get; init; }

    /// <summary>Width in pixels (default 720, at least 240).</summary>
    public int Width { get; init; } = 720;

    /// <summary>Height in pixels (default 340, at least 160).</summary>
    public int Height { get; init; } = 340;
}

/// <summary>A bar chart: one group of bars per category, one bar per series (side by side, or stacked).</summary>
/// <param name="Title">Shown above the chart.</param>
/// <param name="YLabel">Y axis title.</param>
/// <param name="Categories">The groups along X.</param>
/// <param name="Series">Series.Y[i] is the value for Categories[i]; X is unused.</param>
public sealed record BarChart(string Title, string YLabel, IReadOnlyList<string> Categories, IReadOnlyList<ChartSeries> Series)
{
    /// <summary>Whether the series' bars stack (positive values upwards, negative downwards) instead of standing side by side (default false).</summary>
    public bool Stacked { get; init; }

    /// <summary>Width in pixels (default 720, at least 240).</summary>
    public int Width { get; init; } = 720;

    /// <summary>Height in pixels (default 340, at least 160).</summary>
    public int Height { get; init; } = 340;
}
