using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace FedAgg.Reporting.Tests;

/// <summary>Reads rendered SVG back with System.Xml.</summary>
internal static partial class SvgParsing
{
    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    public static XElement Parse(string svg)
    {
        var root = XElement.Parse(svg);
        Assert.Equal(Svg + "svg", root.Name);
        return root;
    }

    public static double Attr(XElement element, string name) =>
        double.Parse(element.Attribute(name)?.Value ?? throw new InvalidOperationException($"no {name} on {element.Name.LocalName}"), CultureInfo.InvariantCulture);

    public static XElement ByClass(XElement root, string localName, string cssClass) =>
        root.Descendants(Svg + localName).Single(e => (string?)e.Attribute("class") == cssClass);

    public static IEnumerable<XElement> Series(XElement root) =>
        root.Descendants(Svg + "g").Where(e => (string?)e.Attribute("class") == "series");

    /// <summary>The runs of a path's d attribute: each "M x y (L x y)*" as a list of points.</summary>
    public static List<List<(double X, double Y)>> Runs(string d)
    {
        var runs = new List<List<(double, double)>>();
        foreach (Match m in Command().Matches(d))
        {
            var point = (double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
            if (m.Groups[1].Value == "M")
            {
                runs.Add([]);
            }

            runs[^1].Add(point);
        }

        return runs;
    }

    /// <summary>Every absolute URL in the text.</summary>
    public static IEnumerable<string> Urls(string text) => Url().Matches(text).Select(m => m.Value);

    [GeneratedRegex(@"([ML])\s*(-?[0-9.]+)\s+(-?[0-9.]+)")]
    private static partial Regex Command();

    [GeneratedRegex(@"https?://[^\s""'<>)]*", RegexOptions.IgnoreCase)]
    private static partial Regex Url();
}
