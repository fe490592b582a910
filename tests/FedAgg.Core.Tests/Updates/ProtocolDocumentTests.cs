using System.Globalization;
using System.Text.RegularExpressions;
using FedAgg.Core.Updates;

namespace FedAgg.Core.Tests.Updates;

/// <summary>docs/PROTOCOL.md is normative: the numbers participants in other languages read there must be the code's.</summary>
public sealed partial class ProtocolDocumentTests
{
    private static readonly string Document = File.ReadAllText(Path.Combine(FedAgg.TestKit.RepositoryRoot.Path, "docs", "PROTOCOL.md"));

    [Fact]
    public void StatusTable_ListsEveryStatusWithItsCode()
    {
        var documented = StatusRow().Matches(Document)
            .ToDictionary(m => int.Parse(m.Groups["code"].Value, CultureInfo.InvariantCulture), m => m.Groups["name"].Value.Replace(" ", "", StringComparison.Ordinal));

        var statuses = Enum.GetValues<SubmitStatus>();
        Assert.Equal(statuses.Length, documented.Count);
        foreach (var status in statuses)
        {
            Assert.True(documented.TryGetValue((int)status, out var name), $"code {(int)status} ({status}) is not in docs/PROTOCOL.md");
            Assert.Equal(status.ToString(), name, ignoreCase: true);
        }
    }

    [Fact]
    public void Limits_MatchTheCode()
    {
        Assert.Contains($"exactly `{UpdatePreimage.FixedLength} + L` bytes", Document, StringComparison.Ordinal);
        Assert.Contains($"| `SubmitRequest` frame | {SubmitRequest.MaxEncodedLength:N0} bytes", Document, StringComparison.Ordinal);
        Assert.Contains($"| `SubmitReceipt` frame | {SubmitReceipt.MaxEncodedLength:N0} bytes; reason ≤ {SubmitReceipt.MaxReasonBytes:N0}", Document, StringComparison.Ordinal);
        Assert.Contains($"preimage ≤ {UpdatePreimage.MaxLength}", Document, StringComparison.Ordinal);
    }

    [Fact]
    public void PreimageTable_OffsetsAddUp()
    {
        var rows = PreimageRow().Matches(Document).ToList();
        Assert.Equal(13, rows.Count);
        var offset = 0;
        var afterTaskId = false;
        foreach (var row in rows)
        {
            var documentedOffset = row.Groups["offset"].Value;
            var expected = afterTaskId ? $"{offset}+L" : offset.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(expected, documentedOffset);
            afterTaskId |= row.Groups["size"].Value == "L";
            offset += row.Groups["size"].Value switch
            {
                "u64" => 8,
                "u16" => 2,
                "u8" => 1,
                "L" => 0,
                var bytes => int.Parse(bytes, CultureInfo.InvariantCulture),
            };
        }

        Assert.Equal(UpdatePreimage.FixedLength, offset);
    }

    [GeneratedRegex(@"^\| (?<code>\d+) \| (?<name>[a-z ]+) \| (?!(u64|u16|u8|L|\d+) \|)", RegexOptions.Multiline)]
    private static partial Regex StatusRow();

    [GeneratedRegex(@"^\| (?<offset>\d+(\+L)?) \| \w+ \| (?<size>u64|u16|u8|L|\d+) \|", RegexOptions.Multiline)]
    private static partial Regex PreimageRow();
}
