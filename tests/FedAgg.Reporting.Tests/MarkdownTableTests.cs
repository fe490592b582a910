namespace FedAgg.Reporting.Tests;

public sealed class MarkdownTableTests
{
    [Fact]
    public void Render_SmallTable_PaddedWithNumericColumnRightAligned()
    {
        var md = MarkdownTable.Render(["rule", "accuracy"], [["krum", "0.91"], ["median", "0.875"]]);
        Assert.Equal(
            "| rule   | accuracy |\n" +
            "| ------ | -------: |\n" +
            "| krum   |     0.91 |\n" +
            "| median |    0.875 |\n",
            md);
    }

    [Fact]
    public void Render_PipesBackslashesAngleBracketsAndNewlines_Escaped()
    {
        var md = MarkdownTable.Render(["a|b"], [["x\\y<z>"], ["line1\r\nline2\nline3"]]);
        var lines = md.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal("| " + "a\\|b".PadRight("line1<br>line2<br>line3".Length) + " |", lines[0]);
        Assert.Contains("x\\\\y\\<z\\>", lines[2], StringComparison.Ordinal);
        Assert.Contains("line1<br>line2<br>line3", lines[3], StringComparison.Ordinal);
        // Every line has exactly two unescaped pipes: one column.
        Assert.All(lines, line => Assert.Equal(2, UnescapedPipes(line)));
    }

    [Fact]
    public void Render_ShortRow_PaddedAndLongRowRejected()
    {
        var md = MarkdownTable.Render(["a", "b"], [["1"]]);
        Assert.EndsWith("|   1 |     |\n", md, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MarkdownTable.Render(["a"], [["1", "2"]]));
    }

    private static int UnescapedPipes(string line)
    {
        var count = 0;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\')
            {
                i++;
            }
            else if (line[i] == '|')
            {
                count++;
            }
        }

        return count;
    }
}
