using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace FedAgg.Reporting.Tests;

public sealed class CsvWriterTests
{
    [Fact]
    public void Render_SpecialCharacters_QuotedPerRfc4180()
    {
        var csv = CsvWriter.Render(["name", "note"], [["a,b", "he said \"hi\""], ["line\nbreak", "plain"], ["cr\rlf", ""]]);
        Assert.Equal("name,note\r\n\"a,b\",\"he said \"\"hi\"\"\"\r\n\"line\nbreak\",plain\r\n\"cr\rlf\",\r\n", csv);
    }

    [Fact]
    public void Render_LoneEmptyField_IsQuotedSoTheRecordIsNotBlank() =>
        Assert.Equal("h\r\n\"\"\r\n", CsvWriter.Render(["h"], [[""]]));

    [Fact]
    public void Render_RowWithWrongFieldCount_Throws()
    {
        Assert.Throws<ArgumentException>(() => CsvWriter.Render(["a", "b"], [["1"]]));
        Assert.Throws<ArgumentException>(() => CsvWriter.Render(["a", "b"], [["1", "2", "3"]]));
    }

    [Fact]
    public void Render_RandomFields_RoundTripThroughAnRfc4180Parser()
    {
        var field = Gen.Elements("a", "b", ",", "\"", "\r", "\n", "\r\n", " ", "é", "=", "x y", "")
            .ListOf()
            .Select(parts => string.Concat(parts));
        var table = field.ArrayOf(3).ArrayOf();
        Prop.ForAll(table.ToArbitrary(), rows =>
        {
            string[] headers = ["h1", "h,2", "h\"3"];
            var csv = CsvWriter.Render(headers, rows);
            var parsed = Parse(csv);
            return parsed.Count == rows.Length + 1
                && parsed[0].SequenceEqual(headers)
                && rows.Select((r, i) => parsed[i + 1].SequenceEqual(r)).All(ok => ok);
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>RFC 4180 section 2, strictly: CRLF between records, quoted fields with doubled quotes.</summary>
    private static List<string[]> Parse(string csv)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        while (i < csv.Length)
        {
            if (csv[i] == '"')
            {
                i++;
                while (true)
                {
                    if (csv[i] == '"')
                    {
                        if (i + 1 < csv.Length && csv[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    field.Append(csv[i++]);
                }
            }
            else
            {
                while (i < csv.Length && csv[i] != ',' && csv[i] != '\r')
                {
                    Assert.NotEqual('"', csv[i]);
                    Assert.NotEqual('\n', csv[i]);
                    field.Append(csv[i++]);
                }
            }

            fields.Add(field.ToString());
            field.Clear();
            if (csv[i] == ',')
            {
                i++;
                continue;
            }

            Assert.Equal("\r\n", csv.Substring(i, 2));
            i += 2;
            records.Add([.. fields]);
            fields.Clear();
        }

        return records;
    }
}
